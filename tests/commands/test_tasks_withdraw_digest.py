"""Withdrawing a task (撤销) and the daily digest on each assigner's own wall clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from commands.tasks import service, timers
from commands.tasks.models import Task
from commands.tasks.policy import TaskPolicy, save_policy
from records import people
from records.clock import FrozenClock
from records.config import Settings
from records.db import Database
from records.errors import DomainError, NotAllowed, NotFound
from records.models import AuditEntry, OutboxMessage, Timer
from records.timers import run_timer
from zhiban.app import build_timers

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
BOSS = "@boss:localhost"
LONDON_BOSS = "@lb:localhost"
LEAD = "@lead:localhost"


async def _new(db: Database, clock: FrozenClock, *, assigner: str = BOSS, due: timedelta = timedelta(days=3)) -> int:
    async with db.transaction() as session:
        task = await service.create_task(
            session, assigner=assigner, lead=LEAD, title="整理会议纪要", due_at=clock.now() + due, clock=clock
        )
        return task.id


async def _set_tz(db: Database, user: str, tz: str) -> None:
    async with db.transaction() as session:
        person = await people.ensure_person(session, user)
        person.tz = tz


async def test_only_the_assigner_withdraws_and_the_timers_stop(db: Database) -> None:
    clock = FrozenClock(T0)
    tid = await _new(db, clock)
    async with db.transaction() as session:
        with pytest.raises(NotAllowed):
            await service.cancel_task(session, tid, LEAD, "", clock)
    async with db.transaction() as session:
        await service.cancel_task(session, tid, BOSS, "不再需要", clock)
    async with db.reading() as session:
        task = await session.get(Task, tid)
        assert task is not None and task.status == "cancelled"
        keys = list(await session.scalars(select(Timer.key).where(Timer.key.startswith(f"task:T{tid}:"))))
        statuses = set(await session.scalars(select(Timer.status).where(Timer.key.startswith(f"task:T{tid}:"))))
        assert keys and statuses == {"cancelled"}
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "task.cancel"))
        assert entry is not None and entry.data["reason"] == "不再需要"
    async with db.transaction() as session:
        with pytest.raises(NotFound):
            await service.cancel_task(session, tid, BOSS, "", clock)  # once only


async def test_an_accepted_task_cannot_be_withdrawn(db: Database) -> None:
    clock = FrozenClock(T0)
    tid = await _new(db, clock)
    async with db.transaction() as session:
        await service.submit_done(session, tid, LEAD, "好了", clock)
        await service.accept(session, tid, BOSS, "", clock)
    async with db.transaction() as session:
        with pytest.raises(DomainError) as refused:
            await service.cancel_task(session, tid, BOSS, "", clock)
    assert refused.value.key == "task.closed"


async def test_each_assigner_gets_the_digest_at_nine_on_their_own_clock(db: Database) -> None:
    clock = FrozenClock(T0)
    async with db.transaction() as session:
        await save_policy(session, TaskPolicy(digest_time="09:00"))
    await _set_tz(db, LONDON_BOSS, "Europe/London")
    shanghai_task = await _new(db, clock, due=timedelta(hours=1))
    london_task = await _new(db, clock, assigner=LONDON_BOSS, due=timedelta(hours=1))
    london_key = f"{timers.DIGEST_KEY}:Europe/London"
    async with db.reading() as session:
        due = {t.key: t.due_at for t in await session.scalars(select(Timer).where(Timer.kind == timers.DIGEST))}
    assert due == {
        timers.DIGEST_KEY: datetime(2026, 11, 24, 1, 0, tzinfo=UTC),  # tomorrow 09:00 Shanghai
        london_key: datetime(2026, 11, 23, 9, 0, tzinfo=UTC),  # today 09:00 London (GMT in November)
    }

    registry = build_timers(Settings())

    async def run_digest(key: str, at: datetime) -> list[OutboxMessage]:
        clock.set(at)
        async with db.reading() as session:
            last = max([0, *await session.scalars(select(OutboxMessage.id))])
            timer_id = await session.scalar(select(Timer.id).where(Timer.key == key))
        assert timer_id is not None
        assert await run_timer(db, timer_id, registry, clock) == "done"
        async with db.reading() as session:
            rows = await session.scalars(
                select(OutboxMessage).where(OutboxMessage.id > last, OutboxMessage.ref == "tasks:digest")
            )
            return list(rows)

    sent = await run_digest(london_key, datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    assert [(m.to_user, f"T{london_task}" in m.content["body"]) for m in sent] == [(LONDON_BOSS, True)]
    sent = await run_digest(timers.DIGEST_KEY, datetime(2026, 11, 24, 1, 0, tzinfo=UTC))
    assert [(m.to_user, f"T{shanghai_task}" in m.content["body"]) for m in sent] == [(BOSS, True)]
    async with db.reading() as session:
        again = await session.scalar(select(Timer).where(Timer.key == london_key))
    assert again is not None and again.status == "pending"
    assert again.due_at == datetime(2026, 11, 24, 9, 0, tzinfo=UTC)

    # Once nobody in London has unresolved work, that zone's timer ends…
    async with db.transaction() as session:
        await service.cancel_task(session, london_task, LONDON_BOSS, "", clock)
    assert await run_digest(london_key, datetime(2026, 11, 24, 9, 0, tzinfo=UTC)) == []
    async with db.reading() as session:
        ended = await session.scalar(select(Timer).where(Timer.key == london_key))
    assert ended is not None and ended.status == "done"
    # …and the office run brings it back for an assigner who moved there with overdue work.
    await _set_tz(db, BOSS, "Europe/London")
    sent = await run_digest(timers.DIGEST_KEY, datetime(2026, 11, 25, 1, 0, tzinfo=UTC))
    assert sent == []  # BOSS now reads it at 09:00 London time
    async with db.reading() as session:
        back = await session.scalar(select(Timer).where(Timer.key == london_key))
    assert back is not None and back.status == "pending"
    assert back.due_at == datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    sent = await run_digest(london_key, back.due_at)
    assert [(m.to_user, f"T{shanghai_task}" in m.content["body"]) for m in sent] == [(BOSS, True)]
