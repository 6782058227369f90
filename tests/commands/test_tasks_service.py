"""Supervised tasks at the service level: permissions, 退办/办结, extensions, escalation, digest, audit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from commands.tasks import service, timers
from commands.tasks.models import Task
from commands.tasks.policy import TaskPolicy, save_policy
from records import audit
from records.clock import FrozenClock
from records.config import Settings
from records.db import Database
from records.errors import DomainError, NotAllowed, NotFound
from records.models import OutboxMessage, Timer
from records.timers import TimerPump, run_timer
from zhiban.app import build_timers

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
BOSS = "@boss:localhost"
LEAD = "@lead:localhost"
CO = "@co:localhost"
EVE = "@eve:localhost"


def _pump(db: Database, clock: FrozenClock) -> TimerPump:
    registry = build_timers(Settings())

    async def transport(timer_id: int) -> None:
        assert await run_timer(db, timer_id, registry, clock) == "done"

    return TimerPump(db, clock, transport)


async def _new(db: Database, clock: FrozenClock, due: timedelta = timedelta(days=3)) -> int:
    async with db.transaction() as session:
        task = await service.create_task(
            session,
            assigner=BOSS,
            lead=LEAD,
            co_owners=[CO, LEAD],
            title="整理会议纪要",
            due_at=clock.now() + due,
            source="M3",
            priority="high",
            room_id="!room:localhost",
            clock=clock,
        )
        return task.id


async def _sent(db: Database, since: int = 0) -> list[OutboxMessage]:
    async with db.transaction() as session:
        rows = await session.scalars(select(OutboxMessage).where(OutboxMessage.id > since).order_by(OutboxMessage.id))
        return list(rows)


async def _last_id(db: Database) -> int:
    rows = await _sent(db)
    return rows[-1].id if rows else 0


async def _pending_keys(db: Database, task_id: int) -> dict[str, datetime]:
    async with db.transaction() as session:
        rows = await session.scalars(
            select(Timer).where(Timer.key.startswith(f"task:T{task_id}:"), Timer.status == "pending")
        )
        return {t.key or "": t.due_at for t in rows}


async def test_create_task_schedules_reminders_and_tells_owners(db: Database) -> None:
    clock = FrozenClock(T0)
    tid = await _new(db, clock)
    keys = await _pending_keys(db, tid)
    due = T0 + timedelta(days=3)
    assert keys == {
        f"task:T{tid}:remind:1d": due - timedelta(days=1),
        f"task:T{tid}:remind:2h": due - timedelta(hours=2),
        f"task:T{tid}:overdue": due,
    }
    sent = await _sent(db)
    assert sorted(m.to_user or "" for m in sent) == [CO, LEAD]  # the lead once, not twice
    assert "整理会议纪要" in sent[0].content["body"]
    async with db.transaction() as session:
        task = await session.get(Task, tid)
        assert task is not None and task.co_owners == [CO] and task.source == "M3" and task.priority == "high"
        assert [e.action for e in await audit.history(session, f"T{tid}")] == ["task.create"]


async def test_a_deadline_in_the_past_is_refused(db: Database) -> None:
    clock = FrozenClock(T0)
    with pytest.raises(DomainError) as err:
        await _new(db, clock, due=-timedelta(minutes=1))
    assert err.value.key == "task.due_past"


async def test_only_parties_may_act_and_each_only_their_part(db: Database) -> None:
    clock = FrozenClock(T0)
    tid = await _new(db, clock)
    async with db.transaction() as session:
        with pytest.raises(NotAllowed) as err:
            await service.report_progress(session, tid, EVE, 50, "", clock)
        assert err.value.key == "task.not_yours"
        with pytest.raises(NotAllowed) as err:
            await service.submit_done(session, tid, BOSS, "", clock)
        assert err.value.key == "task.owners_only"
        with pytest.raises(NotFound):
            await service.report_progress(session, tid + 100, LEAD, 50, "", clock)
        with pytest.raises(DomainError) as err:
            await service.report_progress(session, tid, LEAD, 101, "", clock)
        assert err.value.key == "task.bad_percent"
        with pytest.raises(DomainError):
            await service.report_progress(session, tid, LEAD, -1, "", clock)
    async with db.transaction() as session:
        await service.submit_done(session, tid, CO, "初稿已交", clock)
    async with db.transaction() as session:
        with pytest.raises(NotAllowed) as err:
            await service.accept(session, tid, LEAD, "", clock)
        assert err.value.key == "task.assigner_only"
        with pytest.raises(NotAllowed):
            await service.send_back(session, tid, EVE, "不行", clock)


async def test_sendback_then_accept(db: Database) -> None:
    clock = FrozenClock(T0)
    tid = await _new(db, clock)
    async with db.transaction() as session:
        await service.report_progress(session, tid, LEAD, 60, "已完成初稿", clock)
    async with db.transaction() as session:
        with pytest.raises(DomainError) as err:
            await service.accept(session, tid, BOSS, "", clock)
        assert err.value.key == "task.not_submitted"
    mark = await _last_id(db)
    async with db.transaction() as session:
        await service.submit_done(session, tid, LEAD, "请审阅", clock)
    (done_notice,) = await _sent(db, mark)
    assert done_notice.to_user == BOSS and done_notice.ref == f"task:T{tid}:done"
    assert await _pending_keys(db, tid) == {}  # no reminders while the assigner decides

    async with db.transaction() as session:
        with pytest.raises(DomainError):
            await service.send_back(session, tid, BOSS, "  ", clock)  # a reason is required
    async with db.transaction() as session:
        task = await service.send_back(session, tid, BOSS, "数据不全", clock)
        assert task.status == "open"
    assert f"task:T{tid}:overdue" in await _pending_keys(db, tid)

    async with db.transaction() as session:
        await service.submit_done(session, tid, LEAD, "已补充", clock)
    async with db.transaction() as session:
        task = await service.accept(session, tid, BOSS, "", clock)
        assert task.status == "accepted" and task.accepted_at == T0
    assert await _pending_keys(db, tid) == {}
    async with db.transaction() as session:
        with pytest.raises(DomainError) as err:
            await service.report_progress(session, tid, LEAD, 10, "", clock)
        assert err.value.key == "task.closed"
        actions = [e.action for e in await audit.history(session, f"T{tid}")]
    assert actions == ["task.create", "task.progress", "task.done", "task.sendback", "task.done", "task.accept"]


async def test_extension_approved_moves_the_deadline_and_its_timers(db: Database) -> None:
    clock = FrozenClock(T0)
    tid = await _new(db, clock)
    new_due = T0 + timedelta(days=7)
    async with db.transaction() as session:
        with pytest.raises(DomainError) as err:
            await service.request_extension(session, tid, LEAD, T0 + timedelta(days=1), "忙", clock)
        assert err.value.key == "task.ext_not_later"
    mark = await _last_id(db)
    async with db.transaction() as session:
        await service.request_extension(session, tid, LEAD, new_due, "需要会签", clock)
    (request,) = await _sent(db, mark)
    assert request.to_user == BOSS and request.ref == f"task:T{tid}:ext"
    async with db.transaction() as session:
        with pytest.raises(DomainError) as err:
            await service.request_extension(session, tid, CO, new_due, "再延", clock)
        assert err.value.key == "task.ext_pending"
        with pytest.raises(NotAllowed):
            await service.decide_extension(session, tid, LEAD, True, "", clock)
    async with db.transaction() as session:
        task = await service.decide_extension(session, tid, BOSS, True, "", clock)
        assert task.due_at == new_due and task.ext_due_at is None
    keys = await _pending_keys(db, tid)
    assert keys[f"task:T{tid}:overdue"] == new_due
    assert keys[f"task:T{tid}:remind:1d"] == new_due - timedelta(days=1)
    async with db.transaction() as session:
        assert "task.ext_approved" in [e.action for e in await audit.history(session, f"T{tid}")]


async def test_extension_refused_keeps_the_deadline(db: Database) -> None:
    clock = FrozenClock(T0)
    tid = await _new(db, clock)
    async with db.transaction() as session:
        await service.request_extension(session, tid, CO, T0 + timedelta(days=9), "人手不足", clock)
    mark = await _last_id(db)
    async with db.transaction() as session:
        task = await service.decide_extension(session, tid, BOSS, False, "必须按期完成", clock)
        assert task.due_at == T0 + timedelta(days=3) and task.ext_due_at is None
    told = await _sent(db, mark)
    assert sorted(m.to_user or "" for m in told) == [CO, LEAD]
    assert all("必须按期完成" in m.content["body"] for m in told)
    async with db.transaction() as session:
        with pytest.raises(DomainError) as err:
            await service.decide_extension(session, tid, BOSS, True, "", clock)
        assert err.value.key == "task.no_ext"
        assert "task.ext_refused" in [e.action for e in await audit.history(session, f"T{tid}")]


async def test_reminders_then_overdue_escalation_order(db: Database) -> None:
    clock = FrozenClock(T0)
    async with db.transaction() as session:
        await save_policy(session, TaskPolicy(escalate_after_minutes=120, overdue_repeat_hours=24))
    tid = await _new(db, clock)
    due = T0 + timedelta(days=3)
    pump = _pump(db, clock)

    async def step_to(at: datetime) -> list[str]:
        mark = await _last_id(db)
        clock.set(at)
        await pump.pump_once()
        # The morning digest also goes out on these days; it is tested on its own below.
        return sorted(m.to_user or "" for m in await _sent(db, mark) if m.ref != timers.DIGEST_KEY)

    assert await step_to(due - timedelta(days=1)) == [CO, LEAD]  # 1 day before
    assert await step_to(due - timedelta(hours=2)) == [CO, LEAD]  # 2 hours before
    assert await step_to(due - timedelta(minutes=1)) == []
    assert await step_to(due) == [CO, LEAD]  # overdue: the owners first
    assert await step_to(due + timedelta(hours=1)) == []
    assert await step_to(due + timedelta(hours=2)) == [BOSS]  # then the assigner
    assert await step_to(due + timedelta(hours=25)) == []
    assert await step_to(due + timedelta(hours=26)) == [BOSS, CO, LEAD]  # then daily, everyone
    assert await step_to(due + timedelta(hours=50)) == [BOSS, CO, LEAD]
    async with db.transaction() as session:
        steps = [e.data["step"] for e in await audit.history(session, f"T{tid}") if e.action == "task.escalate"]
    assert steps == [0, 1, 2, 3]

    async with db.transaction() as session:
        await service.submit_done(session, tid, LEAD, "终于完成", clock)
    assert await step_to(due + timedelta(days=5)) == []  # resolved: the chain stops


async def test_at_its_deadline_a_task_is_due_not_yet_overdue(db: Database) -> None:
    clock = FrozenClock(T0)
    async with db.transaction() as session:
        await save_policy(session, TaskPolicy(escalate_after_minutes=120, overdue_repeat_hours=24))
    await _new(db, clock)
    due = T0 + timedelta(days=3)
    pump = _pump(db, clock)

    async def bodies_at(at: datetime) -> list[str]:
        mark = await _last_id(db)
        clock.set(at)
        await pump.pump_once()
        return [str(m.content["body"]) for m in await _sent(db, mark) if m.to_user == LEAD]

    await bodies_at(due - timedelta(minutes=1))
    at_deadline = await bodies_at(due)
    assert at_deadline and all("已到期" in body and "已超期" not in body for body in at_deadline)
    assert await bodies_at(due + timedelta(hours=2)) == []  # the assigner's turn
    a_day_later = await bodies_at(due + timedelta(hours=26))
    assert a_day_later and all("已超期" in body for body in a_day_later)


async def test_daily_digest_lists_each_assigners_overdue_tasks(db: Database) -> None:
    clock = FrozenClock(T0)
    async with db.transaction() as session:
        await save_policy(session, TaskPolicy(digest_time="09:00"))
    late = await _new(db, clock, due=timedelta(hours=3))
    await _new(db, clock, due=timedelta(days=5))
    async with db.transaction() as session:
        digest = await session.scalar(select(Timer).where(Timer.key == timers.DIGEST_KEY))
        assert digest is not None
        assert digest.due_at == datetime(2026, 11, 24, 1, 0, tzinfo=UTC)  # tomorrow 09:00 Shanghai
    mark = await _last_id(db)
    clock.set(datetime(2026, 11, 24, 1, 0, tzinfo=UTC))
    async with db.transaction() as session:
        timer = await session.scalar(select(Timer).where(Timer.key == timers.DIGEST_KEY))
        assert timer is not None
        await timers.fire_digest(session, timer, clock)
    digests = [m for m in await _sent(db, mark) if m.ref == "tasks:digest"]
    assert len(digests) == 1 and digests[0].to_user == BOSS
    assert f"T{late}" in digests[0].content["body"] and "1" in digests[0].content["body"]


async def test_task_lists_mine_overdue_and_of_someone(db: Database) -> None:
    clock = FrozenClock(T0)
    soon = await _new(db, clock, due=timedelta(hours=1))
    later = await _new(db, clock, due=timedelta(days=2))
    clock.advance(timedelta(hours=2))
    async with db.transaction() as session:
        assert [t.id for t in await service.list_mine(session, LEAD)] == [soon, later]  # by deadline
        assert [t.id for t in await service.list_mine(session, BOSS)] == [soon, later]
        assert await service.list_mine(session, EVE) == []
        assert [t.id for t in await service.list_overdue(session, CO, clock.now())] == [soon]
        assert [t.id for t in await service.list_of(session, BOSS, LEAD)] == [soon, later]
        assert await service.list_of(session, EVE, LEAD) == []  # not Eve's to see
        assert len(await service.list_of(session, EVE, LEAD, see_all=True)) == 2  # a leader sees all
