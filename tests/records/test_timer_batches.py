"""A batch of claimed timers runs together: one that fails is rolled back alone and retried,
the others fire once with their effects, and a batch run twice fires nothing twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from records import outbox, timers
from records.clock import Clock, FrozenClock
from records.db import Database
from records.models import OutboxMessage, Timer
from records.timers import Fired, TimerRegistry, claim_due, run_batch

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
ROOM = "!batch:test"


def _registry() -> TimerRegistry:
    registry = TimerRegistry()

    @registry.register("test.say")
    async def say(session: AsyncSession, timer: Timer, clock: Clock) -> Fired | None:
        await outbox.enqueue(session, {"msgtype": "m.text", "body": f"timer {timer.id}"}, room_id=ROOM)
        if timer.payload.get("fail"):
            raise RuntimeError("the handler broke after writing its message")
        return None

    return registry


async def _bodies(db: Database) -> list[str]:
    async with db.reading() as session:
        rows = await session.scalars(select(OutboxMessage.content).where(OutboxMessage.room_id == ROOM))
        return sorted(str(content["body"]) for content in rows)


async def test_a_failing_timer_is_rolled_back_alone_and_the_batch_fires_once(db: Database) -> None:
    clock = FrozenClock(T0)
    async with db.transaction() as session:
        ids = [(await timers.schedule(session, "test.say", T0, {"fail": n == 3}, clock=clock)).id for n in range(7)]
    assert sorted(await claim_due(db, clock)) == sorted(ids)

    outcomes = await run_batch(db, ids, _registry(), clock)

    broken = ids[3]
    assert outcomes == {i: ("error" if i == broken else "done") for i in ids}
    assert await _bodies(db) == sorted(f"timer {i}" for i in ids if i != broken)
    async with db.reading() as session:
        rows = {t.id: t for t in await session.scalars(select(Timer).where(Timer.id.in_(ids)))}
    assert {i: t.status for i, t in rows.items()} == {i: ("pending" if i == broken else "done") for i in ids}
    assert rows[broken].attempts == 1 and "handler broke" in (rows[broken].last_error or "")
    assert rows[broken].due_at > T0  # retried later, with back-off

    # The same batch delivered twice (a job re-sent after its claims lapsed) fires nothing again.
    clock.advance(timedelta(minutes=1))
    again = await run_batch(db, [i for i in ids if i != broken], _registry(), clock)
    assert set(again.values()) == {"skipped"}
    assert len(await _bodies(db)) == len(ids) - 1
