"""The morning briefing (SQLite and PostgreSQL): a timer row DMs the leaders and the duty leader
on working days at the configured time, once, and is re-armed for the next working day; on a
holiday it sends nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from commands.board import briefing
from emergency import roster
from records.clock import FrozenClock
from records.config import Settings
from records.db import Database
from records.models import OutboxMessage, Timer
from records.timers import TimerPump, run_timer
from tests.support.need_to_know import ADMIN, MEMBER, office_records
from zhiban.app import build_timers

LEADER = "@leader:localhost"
DUTY_LEADER = "@duty:localhost"
# 2026-09-30 (Wednesday) is a working day; 1–7 October are the National Day holiday.
EVE = datetime(2026, 9, 29, 16, 0, tzinfo=UTC)  # Wednesday 30 Sep, 00:00 in Shanghai
SETTINGS = Settings(data_dir=Path("/nonexistent"), roles={"leader": [LEADER], "admin": [ADMIN]})


async def pump(db: Database, clock: FrozenClock) -> int:
    registry = build_timers(SETTINGS)

    async def run(timer_id: int) -> None:
        await run_timer(db, timer_id, registry, clock)

    return await TimerPump(db, clock, run).pump_once()


async def briefings(db: Database) -> list[tuple[str | None, str]]:
    async with db.reading() as session:
        rows = await session.scalars(select(OutboxMessage).where(OutboxMessage.to_user.is_not(None)))
        return [(r.to_user, str(r.content["body"])) for r in rows if "值班简报" in str(r.content["body"])]


async def test_the_briefing_goes_once_on_a_working_day_and_skips_the_holiday(db: Database) -> None:
    clock = FrozenClock(EVE)
    async with db.transaction() as session:
        await office_records(session, clock, first_signer=LEADER)
        await roster.set_shift(
            session, starts_at=EVE, ends_at=EVE + timedelta(days=1), leader=DUTY_LEADER, officers=[MEMBER],
            actor=ADMIN, clock=clock,
        )  # fmt: skip
        await briefing.arm(session, SETTINGS, clock)
        timer = await session.scalar(select(Timer).where(Timer.key == briefing.KEY))
        assert timer is not None and timer.due_at == datetime(2026, 9, 30, 0, 30, tzinfo=UTC)  # 08:30

    clock.set(datetime(2026, 9, 30, 0, 29, tzinfo=UTC))
    await pump(db, clock)
    assert await briefings(db) == []

    clock.set(datetime(2026, 9, 30, 0, 30, tzinfo=UTC))
    await pump(db, clock)
    sent = await briefings(db)
    assert sorted(to for to, _ in sent) == [DUTY_LEADER, LEADER]
    body = dict(sent)[LEADER]
    assert body.startswith("☀️ 早安，")
    assert "【值班】" in body and "带班领导：duty" in body  # by name (no display name known: the ID's first part)
    assert "【审批】" in body and "关于蓄滞洪区转移安置经费的请示" in body  # waits on the leader

    # Armed again, past the holiday, for the next working day (8 October).
    async with db.transaction() as session:
        timer = await session.scalar(select(Timer).where(Timer.key == briefing.KEY))
        assert timer is not None and timer.status == "pending"
        assert timer.due_at == datetime(2026, 10, 8, 0, 30, tzinfo=UTC)
        # Re-armed the same day (a restart): nothing goes twice.
        await briefing.arm(session, SETTINGS, clock)
        timer.due_at = clock.now()
    await pump(db, clock)
    assert len(await briefings(db)) == 2


async def test_a_run_that_falls_on_a_holiday_sends_nothing(db: Database) -> None:
    clock = FrozenClock(datetime(2026, 10, 2, 0, 30, tzinfo=UTC))  # 2 October, 08:30: a holiday
    async with db.transaction() as session:
        await briefing.arm(session, SETTINGS, clock)
        timer = await session.scalar(select(Timer).where(Timer.key == briefing.KEY))
        assert timer is not None
        timer.due_at = clock.now()  # armed before the calendar knew of the holiday
    await pump(db, clock)
    assert await briefings(db) == []
    async with db.reading() as session:
        timer = await session.scalar(select(Timer).where(Timer.key == briefing.KEY))
        assert timer is not None and timer.due_at == datetime(2026, 10, 8, 0, 30, tzinfo=UTC)
