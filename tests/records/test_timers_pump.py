"""Durable timers: due ones fire once, lost deliveries are re-sent, failures retry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from records import outbox, timers
from records.clock import FrozenClock
from records.db import Database
from records.models import OutboxMessage, Timer
from records.timers import Fired, TimerPump, TimerRegistry, run_timer

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def _registry(calls: list[int]) -> TimerRegistry:
    registry = TimerRegistry()

    @registry.register("test.say")
    async def say(session, timer, clock):  # type: ignore[no-untyped-def]
        calls.append(timer.id)
        await outbox.enqueue(session, outbox.text_content(timer.payload["text"]), room_id="!r:x")
        return None

    @registry.register("test.repeat")
    async def repeat(session, timer, clock):  # type: ignore[no-untyped-def]
        calls.append(timer.id)
        return Fired(again_at=clock.now() + timedelta(minutes=5)) if len(calls) < 3 else None

    @registry.register("test.boom")
    async def boom(session, timer, clock):  # type: ignore[no-untyped-def]
        await outbox.enqueue(session, outbox.text_content("half-written"), room_id="!r:x")
        raise RuntimeError("handler failed")

    return registry


async def _schedule(db: Database, clock: FrozenClock, kind: str, at: datetime, **payload: str) -> int:
    async with db.transaction() as session:
        timer = await timers.schedule(session, kind, at, payload, clock=clock)
        return timer.id


async def test_due_timer_fires_once_and_not_before(db: Database) -> None:
    clock = FrozenClock(T0)
    calls: list[int] = []
    registry = _registry(calls)

    async def transport(timer_id: int) -> None:
        await run_timer(db, timer_id, registry, clock)

    pump = TimerPump(db, clock, transport)
    await _schedule(db, clock, "test.say", T0 + timedelta(minutes=10), text="开会")
    assert await pump.pump_once() == 0
    clock.advance(timedelta(minutes=10))
    assert await pump.pump_once() == 1
    assert await pump.pump_once() == 0
    assert len(calls) == 1
    async with db.transaction() as session:
        bodies = [m.content["body"] for m in await session.scalars(select(OutboxMessage))]
    assert bodies == ["开会"]


async def test_lost_delivery_is_claimed_again_after_the_lease(db: Database) -> None:
    """What Redis loses (a flushed queue) the database still has."""
    clock = FrozenClock(T0)
    calls: list[int] = []
    registry = _registry(calls)
    lost: list[int] = []

    async def losing_transport(timer_id: int) -> None:
        lost.append(timer_id)  # the job vanished with the queue

    timer_id = await _schedule(db, clock, "test.say", T0, text="提醒")
    assert await TimerPump(db, clock, losing_transport).pump_once() == 1
    assert await TimerPump(db, clock, losing_transport).pump_once() == 0  # still leased
    clock.advance(timers.CLAIM_LEASE + timedelta(seconds=1))

    async def transport(tid: int) -> None:
        await run_timer(db, tid, registry, clock)

    assert await TimerPump(db, clock, transport).pump_once() == 1
    assert calls == [timer_id] and lost == [timer_id]


async def test_repeating_timer_moves_its_due_time(db: Database) -> None:
    clock = FrozenClock(T0)
    calls: list[int] = []
    registry = _registry(calls)
    timer_id = await _schedule(db, clock, "test.repeat", T0)

    async def transport(tid: int) -> None:
        await run_timer(db, tid, registry, clock)

    pump = TimerPump(db, clock, transport)
    for _ in range(5):
        await pump.pump_once()
        clock.advance(timedelta(minutes=5))
    assert len(calls) == 3
    async with db.transaction() as session:
        timer = await session.get(Timer, timer_id)
        assert timer is not None and timer.status == "done"


async def test_failing_handler_writes_nothing_and_retries_later(db: Database) -> None:
    clock = FrozenClock(T0)
    registry = _registry([])
    timer_id = await _schedule(db, clock, "test.boom", T0)
    assert await run_timer(db, timer_id, registry, clock) == "error"
    async with db.transaction() as session:
        timer = await session.get(Timer, timer_id)
        assert timer is not None
        assert timer.status == "pending" and timer.attempts == 1 and timer.due_at > T0
        assert "handler failed" in (timer.last_error or "")
        assert list(await session.scalars(select(OutboxMessage))) == []


async def test_cancelled_timer_does_not_fire(db: Database) -> None:
    clock = FrozenClock(T0)
    calls: list[int] = []
    registry = _registry(calls)
    async with db.transaction() as session:
        await timers.schedule(session, "test.say", T0, {"text": "x"}, key="reminder:R1", clock=clock)
    async with db.transaction() as session:
        assert await timers.cancel(session, "reminder:R1")

    async def transport(tid: int) -> None:
        await run_timer(db, tid, registry, clock)

    assert await TimerPump(db, clock, transport).pump_once() == 0
    assert calls == []


async def test_schedule_with_same_key_moves_the_timer(db: Database) -> None:
    clock = FrozenClock(T0)
    async with db.transaction() as session:
        first = await timers.schedule(session, "test.say", T0, {"text": "a"}, key="k", clock=clock)
    async with db.transaction() as session:
        second = await timers.schedule(
            session, "test.say", T0 + timedelta(hours=1), {"text": "b"}, key="k", clock=clock
        )
    assert first.id == second.id
    async with db.transaction() as session:
        rows = list(await session.scalars(select(Timer)))
    assert len(rows) == 1 and rows[0].payload == {"text": "b"} and rows[0].due_at == T0 + timedelta(hours=1)


async def test_a_queued_job_does_not_fire_a_timer_moved_later(db: Database) -> None:
    """`!extend` moves a reminder after its job was queued: the stale job must not fire it."""
    clock = FrozenClock(T0)
    calls: list[int] = []
    registry = _registry(calls)
    async with db.transaction() as session:
        await timers.schedule(session, "test.say", T0, {"text": "x"}, key="task:T7:remind", clock=clock)
    queued: list[int] = []

    async def transport(timer_id: int) -> None:
        queued.append(timer_id)

    assert await TimerPump(db, clock, transport).pump_once() == 1
    async with db.transaction() as session:  # moved to next week before the job runs
        await timers.schedule(
            session, "test.say", T0 + timedelta(days=7), {"text": "x"}, key="task:T7:remind", clock=clock
        )
    assert await run_timer(db, queued[0], registry, clock) == "skipped"
    assert calls == []
    async with db.transaction() as session:
        timer = await session.get(Timer, queued[0])
        assert timer is not None and timer.status == "pending" and timer.due_at == T0 + timedelta(days=7)
