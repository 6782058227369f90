"""What must go out first after an outage is queued as urgent, naming who caused it:
alarms and their re-rings, order nags and escalations, report-clock reminders. A plain
reminder is routine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from commands.tasks import reminders
from emergency import incidents, orders
from emergency.policy import Policy
from records import outbox
from records.clock import FrozenClock
from records.config import Settings
from records.db import Database
from records.models import OutboxMessage
from records.timers import TimerPump, run_timer
from zhiban.app import build_timers

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


async def _pump(db: Database, clock: FrozenClock) -> int:
    registry = build_timers(Settings())

    async def run(timer_id: int) -> None:
        await run_timer(db, timer_id, registry, clock)

    return await TimerPump(db, clock, run).pump_once()


async def _rows_after(db: Database, last_id: int) -> list[OutboxMessage]:
    async with db.reading() as session:
        return list(await session.scalars(select(OutboxMessage).where(OutboxMessage.id > last_id)))


async def _last_id(db: Database) -> int:
    rows = await _rows_after(db, 0)
    return max((r.id for r in rows), default=0)


async def _reminder(db: Database, clock: FrozenClock, *, alarm: bool) -> None:
    async with db.transaction() as session:
        await reminders.create_reminder(
            session, clock=clock, owner="@alice:x", target="room", room_id="!office:x", text="交材料",
            due_at=clock.now() + timedelta(minutes=30), rule=None, tz="Asia/Shanghai", lang="zh", alarm=alarm,
        )  # fmt: skip


async def test_an_alarm_and_its_re_ring_are_urgent_and_a_plain_reminder_is_not(db: Database) -> None:
    clock = FrozenClock(T0)
    await _reminder(db, clock, alarm=False)
    await _reminder(db, clock, alarm=True)
    clock.advance(timedelta(minutes=30))
    assert await _pump(db, clock) == 2
    plain, ring = await _rows_after(db, 0)
    assert plain.priority == outbox.NORMAL and ring.priority == outbox.URGENT
    assert ring.caused_by == "@alice:x"
    mark = await _last_id(db)
    clock.advance(timedelta(hours=1))
    await _pump(db, clock)
    again = await _rows_after(db, mark)
    assert again and all(row.priority == outbox.URGENT for row in again)


async def test_order_nags_and_report_deadlines_are_urgent(db: Database) -> None:
    clock = FrozenClock(T0)
    people = incidents.People(["@leader:x"], ["@officer:x"], ["@fire:x"])
    async with db.transaction() as s:
        incident = await incidents.declare(
            s, actor="@officer:x", grade=2, category="自然灾害", title="城东内涝", people=people,
            policy=Policy(), clock=clock,
        )  # fmt: skip
        await incidents.attach_room(s, incident, "!incident:x")
        plan = orders.NagPlan(incident.ack_minutes, 2, 3, ())
        await orders.issue(
            s, actor="@leader:x", recipients=["@fire:x"], text="到泵站集合", room_id="!incident:x",
            plan=plan, clock=clock, incident=incident,
        )  # fmt: skip
    mark = await _last_id(db)
    clock.advance(timedelta(minutes=40))  # past the order's nags and the first report's deadline
    for _ in range(4):
        await _pump(db, clock)
        clock.advance(timedelta(minutes=10))
    rows = await _rows_after(db, mark)
    nags = [r for r in rows if r.to_user == "@fire:x"]
    clock_rows = [r for r in rows if "首报" in str(r.content.get("body")) or r.to_user == "@leader:x"]
    assert nags and all(r.priority == outbox.URGENT and r.caused_by == "@leader:x" for r in nags)
    assert clock_rows and all(r.priority == outbox.URGENT for r in clock_rows)
