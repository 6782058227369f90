"""Incidents, report clocks and order nags at the service level, on a frozen clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from emergency import cards, closing, feature, incidents, orders, reports
from emergency.models import Receipt
from emergency.policy import Policy
from records.clock import FrozenClock
from records.config import Settings
from records.db import Database
from records.errors import DomainError, NotAllowed
from records.models import OutboxMessage, Timer
from records.timers import TimerPump, TimerRegistry, run_timer

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
PEOPLE = incidents.People(["@leader:x"], ["@officer:x"], ["@fire:x"])


def registry() -> TimerRegistry:
    reg = TimerRegistry()
    feature.register_timers(reg, Settings())
    return reg


async def pump(db: Database, clock: FrozenClock) -> int:
    reg = registry()

    async def run(timer_id: int) -> None:
        await run_timer(db, timer_id, reg, clock)

    return await TimerPump(db, clock, run).pump_once()


async def declare(db: Database, clock: FrozenClock, grade: int, policy: Policy | None = None) -> int:
    async with db.transaction() as s:
        incident = await incidents.declare(
            s, actor="@officer:x", grade=grade, category="自然灾害", title="城东内涝", people=PEOPLE,
            policy=policy or Policy(), clock=clock,
        )  # fmt: skip
        await incidents.attach_room(s, incident, "!incident:x")
        return incident.id


async def outbox_bodies(db: Database) -> list[tuple[str | None, str | None, str]]:
    async with db.transaction() as s:
        rows = await s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        return [(r.room_id, r.to_user, str(r.content.get("body"))) for r in rows]


@pytest.mark.parametrize(("grade", "first", "update"), [(1, 30, 120), (2, 30, 120), (3, 60, 240), (4, 60, 240)])
async def test_due_times_follow_the_grade(db: Database, grade: int, first: int, update: int) -> None:
    clock = FrozenClock(T0)
    incident_id = await declare(db, clock, grade)
    async with db.transaction() as s:
        incident = await incidents.get(s, incident_id)
        assert incident.next_report == "first"
        assert incident.next_report_due == T0 + timedelta(minutes=first)
        assert set(incident.members) == {"@officer:x", "@leader:x", "@fire:x"}
        assert incident.roles["commander"] == ["@leader:x"]
        keys = {t.key: t.due_at for t in await s.scalars(select(Timer).where(Timer.status == "pending"))}
        assert keys[f"incident:{incident_id}:report:due"] == T0 + timedelta(minutes=first)
        assert keys[f"incident:{incident_id}:report:remind"] == T0 + timedelta(minutes=first - 10)
    clock.advance(timedelta(minutes=5))
    async with db.transaction() as s:
        incident = await incidents.get(s, incident_id)
        report = await reports.file_report(
            s, incident, kind="first", fields={"place": "和平路"}, actor="@o:x", clock=clock
        )
        assert report.late is False and report.number == 0
        assert incident.next_report == "update"
        assert incident.next_report_due == clock.now() + timedelta(minutes=update)


async def test_late_first_report_is_escalated_then_marked_late(db: Database) -> None:
    clock = FrozenClock(T0)
    incident_id = await declare(db, clock, 2)
    clock.advance(timedelta(minutes=21))
    assert await pump(db, clock) == 1  # the reminder, ten minutes before the deadline
    assert any("截止" in body for room, _, body in await outbox_bodies(db) if room == "!incident:x")
    clock.advance(timedelta(minutes=9))
    assert await pump(db, clock) == 1  # the deadline itself: due and not in, not yet late
    sent = await outbox_bodies(db)
    assert ("!incident:x", None, "🔴 E1 首报已到时限，尚未报送，已上报带班领导。") in sent
    assert (None, "@leader:x", "🔴 E1 城东内涝 的首报已到时限，尚未报送。") in sent
    assert not any("0 分钟" in body or "迟报" in body for _, _, body in sent)
    # It escalates again half an hour later while the report is still missing: now it is late.
    clock.advance(timedelta(minutes=30))
    assert await pump(db, clock) == 1
    sent = await outbox_bodies(db)
    assert ("!incident:x", None, "🔴 E1 首报已超时 30 分钟（迟报），已上报带班领导。") in sent
    assert (None, "@leader:x", "🔴 迟报：E1 城东内涝 的首报已超时 30 分钟未报送。") in sent
    assert sum(1 for _, to, body in sent if to == "@leader:x") == 2
    async with db.transaction() as s:
        incident = await incidents.get(s, incident_id)
        report = await reports.file_report(s, incident, kind="first", fields={}, actor="@o:x", clock=clock)
        assert report.late is True and report.due_at == T0 + timedelta(minutes=30)
        entries = [e.kind for e in await incidents.timeline(s, incident)]
        assert entries == ["declared", "overdue", "report"]
    # Filed: the old deadline's timer is stale and escalates no more.
    clock.advance(timedelta(minutes=30))
    await pump(db, clock)
    assert sum(1 for _, to, body in await outbox_bodies(db) if to == "@leader:x") == 2


async def test_seconds_past_the_deadline_are_a_minute_late_never_zero(db: Database) -> None:
    clock = FrozenClock(T0)
    await declare(db, clock, 2)
    # The worker comes to the deadline's timer a few seconds after it.
    clock.advance(timedelta(minutes=30, seconds=5))
    assert await pump(db, clock) == 2  # the reminder, late, and the deadline
    sent = await outbox_bodies(db)
    assert ("!incident:x", None, "🔴 E1 首报已超时 1 分钟（迟报），已上报带班领导。") in sent
    assert not any("0 分钟" in body for _, _, body in sent)


async def test_updates_are_numbered_and_final_stops_the_clock(db: Database) -> None:
    clock = FrozenClock(T0)
    incident_id = await declare(db, clock, 3)
    async with db.transaction() as s:
        incident = await incidents.get(s, incident_id)
        with pytest.raises(DomainError):
            await reports.check_can_file(s, incident, "update")
        await reports.file_report(s, incident, kind="first", fields={}, actor="@o:x", clock=clock)
        with pytest.raises(DomainError):
            await reports.check_can_file(s, incident, "first")
    clock.advance(timedelta(minutes=241))
    async with db.transaction() as s:
        incident = await incidents.get(s, incident_id)
        one = await reports.file_report(s, incident, kind="update", fields={}, actor="@o:x", clock=clock)
        two = await reports.file_report(s, incident, kind="update", fields={}, actor="@o:x", clock=clock)
        assert (one.number, one.late, two.number, two.late) == (1, True, 2, False)
        assert cards.report_name("update", two.number, "zh") == "续报二"
        assert cards.report_name("update", 12, "zh") == "续报十二"
        await reports.file_report(s, incident, kind="final", fields={}, actor="@o:x", clock=clock)
        assert incident.next_report is None
        pending = await s.scalars(select(Timer.key).where(Timer.status == "pending"))
        assert [k for k in pending if k and k.startswith(f"incident:{incident_id}:")] == []


async def test_grade_change_moves_the_deadline(db: Database) -> None:
    clock = FrozenClock(T0)
    incident_id = await declare(db, clock, 4)
    async with db.transaction() as s:
        incident = await incidents.get(s, incident_id)
        with pytest.raises(NotAllowed):
            await incidents.change_grade(
                s, incident, grade=1, actor="@nobody:x", office_roles={"staff"}, policy=Policy(), clock=clock
            )
        await incidents.change_grade(
            s, incident, grade=1, actor="@leader:x", office_roles={"staff"}, policy=Policy(), clock=clock
        )
        assert incident.next_report_due == T0 + timedelta(minutes=30)
        timer = await s.scalar(select(Timer).where(Timer.key == f"incident:{incident_id}:report:due"))
        assert timer is not None and timer.due_at == T0 + timedelta(minutes=30)


async def test_close_requires_a_commander_and_stops_everything(db: Database) -> None:
    clock = FrozenClock(T0)
    incident_id = await declare(db, clock, 2)
    async with db.transaction() as s:
        incident = await incidents.get(s, incident_id)
        with pytest.raises(NotAllowed):
            await closing.close(s, incident, actor="@fire:x", office_roles={"staff"}, clock=clock)
        await reports.file_report(s, incident, kind="first", fields={"place": "和平路"}, actor="@o:x", clock=clock)
        markdown = await closing.close(s, incident, actor="@leader:x", office_roles=set(), clock=clock)
        assert "首报" in markdown and "和平路" in markdown and "城东内涝" in markdown
        assert incident.status == "closed" and incident.final_markdown == markdown
    clock.advance(timedelta(hours=5))
    assert await pump(db, clock) == 0


async def test_silent_recipient_is_nagged_then_the_commander_is_told(db: Database) -> None:
    clock = FrozenClock(T0)
    incident_id = await declare(db, clock, 2)  # grade Ⅱ: acknowledge within 10 minutes
    async with db.transaction() as s:
        incident = await incidents.get(s, incident_id)
        # The first report is in, so that only the nags are due in the next hour.
        await reports.file_report(s, incident, kind="first", fields={}, actor="@o:x", clock=clock)
        plan = orders.NagPlan(incident.ack_minutes, 2, 3, ())
        order = await orders.issue(
            s, actor="@leader:x", recipients=["@a:x", "@b:x"], text="到泵站集合", room_id="!incident:x",
            plan=plan, clock=clock, incident=incident,
        )  # fmt: skip
        order_id = order.id
    with pytest.raises(DomainError):
        async with db.transaction() as s:
            await orders.issue(s, actor="@leader:x", recipients=[], text="x", room_id="!r:x", plan=plan, clock=clock)
    clock.advance(timedelta(minutes=3))
    async with db.transaction() as s:
        assert await orders.acknowledge(s, await orders.get(s, order_id), user="@a:x", clock=clock)
        assert not await orders.acknowledge(s, await orders.get(s, order_id), user="@a:x", clock=clock)
        with pytest.raises(NotAllowed):
            await orders.acknowledge(s, await orders.get(s, order_id), user="@c:x", clock=clock)
    clock.advance(timedelta(minutes=7))
    assert await pump(db, clock) == 1  # only @b's nag is due: @a's was cancelled
    nags_to_b = [body for _, to, body in await outbox_bodies(db) if to == "@b:x"]
    assert len(nags_to_b) == 1 and "O" in nags_to_b[0]
    assert not [1 for _, to, _ in await outbox_bodies(db) if to == "@leader:x"]
    clock.advance(timedelta(minutes=10))
    assert await pump(db, clock) == 1  # second nag: the commander is told
    told = [body for _, to, body in await outbox_bodies(db) if to == "@leader:x"]
    assert len(told) == 1 and "b 在 20 分钟内未确认" in told[0]  # @b:x by name (none known: "b")
    clock.advance(timedelta(minutes=10))
    assert await pump(db, clock) == 1  # third and last nag
    clock.advance(timedelta(minutes=10))
    assert await pump(db, clock) == 0
    async with db.transaction() as s:
        receipt = await s.scalar(select(Receipt).where(Receipt.order_id == order_id, Receipt.user_id == "@b:x"))
        assert receipt is not None and receipt.nags == 3 and receipt.escalated_at is not None
        await orders.complete(s, await orders.get(s, order_id), user="@b:x", note="已到岗", clock=clock)
        assert receipt.acked_at is not None and receipt.done_note == "已到岗"
    assert len([1 for _, to, _ in await outbox_bodies(db) if to == "@leader:x"]) == 1
