"""Reminders at the service level: they fire on time, repeat, nag until ✅, and can be cancelled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from commands.tasks import reminders
from commands.tasks.models import Reminder
from commands.tasks.policy import TaskPolicy, save_policy
from records import audit
from records.clock import FrozenClock
from records.config import Settings
from records.db import Database
from records.errors import NotAllowed
from records.models import OutboxMessage, Timer
from records.timers import TimerPump, TimerRegistry, run_timer
from timeparse import parse_recurrence
from zhiban.app import build_timers

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
ALICE = "@alice:localhost"
BOB = "@bob:localhost"
ROOM = "!room:localhost"


def _pump(db: Database, clock: FrozenClock, registry: TimerRegistry | None = None) -> TimerPump:
    registry = registry or build_timers(Settings())

    async def transport(timer_id: int) -> None:
        assert await run_timer(db, timer_id, registry, clock) == "done"

    return TimerPump(db, clock, transport)


async def _outbox(db: Database) -> list[OutboxMessage]:
    async with db.transaction() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def _create(db: Database, clock: FrozenClock, **kw: object) -> int:
    values: dict[str, object] = {
        "owner": ALICE,
        "target": "me",
        "room_id": ROOM,
        "text": "交材料",
        "due_at": clock.now() + timedelta(minutes=30),
        "rule": None,
        "tz": "Asia/Shanghai",
        "lang": "zh",
        "alarm": False,
    }
    values.update(kw)
    async with db.transaction() as session:
        reminder = await reminders.create_reminder(session, clock=clock, **values)  # type: ignore[arg-type]
        return reminder.id


async def test_a_reminder_fires_at_its_time_and_not_before(db: Database) -> None:
    clock = FrozenClock(T0)
    rid = await _create(db, clock)
    pump = _pump(db, clock)
    clock.advance(timedelta(minutes=29, seconds=59))
    assert await pump.pump_once() == 0
    assert await _outbox(db) == []
    clock.advance(timedelta(seconds=1))
    assert await pump.pump_once() == 1
    sent = await _outbox(db)
    assert len(sent) == 1
    assert sent[0].to_user == ALICE and sent[0].ref == f"reminder:R{rid}"
    assert "交材料" in sent[0].content["body"] and f"R{rid}" in sent[0].content["body"]
    assert await pump.pump_once() == 0  # once only
    async with db.transaction() as session:
        reminder = await session.get(Reminder, rid)
        assert reminder is not None and reminder.status == "done"


async def test_a_room_reminder_mentions_owner_and_subscribers(db: Database) -> None:
    clock = FrozenClock(T0)
    rid = await _create(db, clock, target="room")
    async with db.transaction() as session:
        assert await reminders.subscribe(session, rid, BOB, clock) is True
        assert await reminders.subscribe(session, rid, BOB, clock) is False
    clock.advance(timedelta(minutes=30))
    await _pump(db, clock).pump_once()
    (sent,) = await _outbox(db)
    assert sent.room_id == ROOM
    assert sent.content["m.mentions"]["user_ids"] == [ALICE, BOB]


async def test_a_personal_reminder_dms_each_subscriber(db: Database) -> None:
    clock = FrozenClock(T0)
    rid = await _create(db, clock)
    async with db.transaction() as session:
        await reminders.subscribe(session, rid, BOB, clock)
    clock.advance(timedelta(minutes=30))
    await _pump(db, clock).pump_once()
    assert sorted(m.to_user or "" for m in await _outbox(db)) == [ALICE, BOB]


async def test_a_reminder_in_the_past_is_refused(db: Database) -> None:
    from records.errors import DomainError

    clock = FrozenClock(T0)
    with pytest.raises(DomainError) as err:
        await _create(db, clock, due_at=T0 - timedelta(seconds=1))
    assert err.value.key == "time.in_past"


async def test_recurring_reminder_follows_month_ends(db: Database) -> None:
    """每月最后一天 fires on Nov 30, Dec 31, Jan 31, Feb 28: the timer walks the month ends."""
    clock = FrozenClock(T0)
    rule = parse_recurrence("每月最后一天 17:00", now=T0, tz="Asia/Shanghai")
    first = rule.next_after(T0)
    rid = await _create(db, clock, due_at=first, rule=rule.rule)
    pump = _pump(db, clock)
    fired: list[str] = []
    for _ in range(4):
        async with db.transaction() as session:
            timer = await session.scalar(select(Timer).where(Timer.key == f"reminder:R{rid}"))
            assert timer is not None and timer.status == "pending"
            clock.set(timer.due_at)
        assert await pump.pump_once() == 1
        fired.append(clock.now().astimezone(rule_zone()).strftime("%Y-%m-%d %H:%M"))
    assert fired == ["2026-11-30 17:00", "2026-12-31 17:00", "2027-01-31 17:00", "2027-02-28 17:00"]
    assert len(await _outbox(db)) == 4


def rule_zone():  # type: ignore[no-untyped-def]
    from zoneinfo import ZoneInfo

    return ZoneInfo("Asia/Shanghai")


async def test_recurring_reminder_skips_occurrences_missed_while_down(db: Database) -> None:
    clock = FrozenClock(T0)
    rule = parse_recurrence("every day 9:00", now=T0, tz="Asia/Shanghai")
    rid = await _create(db, clock, due_at=rule.next_after(T0), rule=rule.rule)
    clock.advance(timedelta(days=3, hours=1))  # three 09:00s passed while nothing ran
    pump = _pump(db, clock)
    assert await pump.pump_once() == 1
    assert await pump.pump_once() == 0
    async with db.transaction() as session:
        reminder = await session.get(Reminder, rid)
        assert reminder is not None and reminder.due_at > clock.now()
        assert reminder.due_at - clock.now() < timedelta(days=1)


async def test_an_alarm_repeats_until_acknowledged(db: Database) -> None:
    clock = FrozenClock(T0)
    async with db.transaction() as session:
        await save_policy(session, TaskPolicy(alarm_repeat_minutes=5))
    rid = await _create(db, clock, alarm=True, target="room")
    pump = _pump(db, clock)
    clock.advance(timedelta(minutes=30))
    assert await pump.pump_once() == 1  # rings
    for _ in range(3):
        clock.advance(timedelta(minutes=4))
        assert await pump.pump_once() == 0
        clock.advance(timedelta(minutes=1))
        assert await pump.pump_once() == 1  # rings again, every 5 minutes
    assert len(await _outbox(db)) == 4
    async with db.transaction() as session:
        assert await reminders.acknowledge(session, rid, BOB, clock) is True
        assert await reminders.acknowledge(session, rid, BOB, clock) is False
    clock.advance(timedelta(hours=1))
    assert await pump.pump_once() == 0
    assert len(await _outbox(db)) == 4
    async with db.transaction() as session:
        reminder = await session.get(Reminder, rid)
        assert reminder is not None and reminder.status == "done" and not reminder.ringing
        actions = [e.action for e in await audit.history(session, f"R{rid}")]
    assert actions == ["reminder.create", "reminder.ack"]


async def test_only_the_owner_cancels_and_a_cancelled_reminder_never_fires(db: Database) -> None:
    clock = FrozenClock(T0)
    rid = await _create(db, clock)
    async with db.transaction() as session:
        with pytest.raises(NotAllowed):
            await reminders.cancel_reminder(session, rid, BOB, clock)
    async with db.transaction() as session:
        await reminders.cancel_reminder(session, rid, ALICE, clock)
    clock.advance(timedelta(hours=1))
    assert await _pump(db, clock).pump_once() == 0
    assert await _outbox(db) == []
    async with db.transaction() as session:
        assert await reminders.list_reminders(session, ALICE) == []
