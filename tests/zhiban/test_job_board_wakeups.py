"""A worker's job wakes only the boards its timers changed (SQLite and PostgreSQL).

The job used to send an unnamed wake-up after every batch, so every reminder the worker fired
made every open board read itself again in full. It now names what the batch's commits
changed, as a bot turn does (zhiban.middlewares): a task reminder pushed to its lead changes
only the lead's notices.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from commands.tasks.timers import REMIND
from records.clock import FrozenClock
from records.config import Settings
from records.db import Database
from records.models import Timer
from records.timers import claim_round
from tests.support.dispatch_chat import DispatchChat
from tests.zhiban.test_board_wakeups_from_chat import RecordingBus
from zhiban import board_change, jobs
from zhiban.app import build_timers
from zhiban.board_wiring import as_change
from zhiban.wakeup import OUTBOX

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
ROOM = "!office:localhost"
BOSS, LEAD = "@boss:localhost", "@lead:localhost"


async def _only(db: Database, timer: Timer) -> None:
    """Leave `timer` the only one to fire (the daily digest, also planned, is due first)."""
    async with db.transaction() as session:
        await session.execute(update(Timer).where(Timer.id != timer.id).values(status="cancelled"))


async def test_a_job_firing_a_task_reminder_wakes_only_the_leads_notices(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat = DispatchChat(db, FrozenClock(T0), room=ROOM)
    await chat.say(BOSS, f"!督办 整理会议纪要 {LEAD} 截止 3天后")
    async with db.reading() as session:
        reminders = list(await session.scalars(select(Timer).where(Timer.kind == REMIND).order_by(Timer.due_at)))
    first = reminders[0]  # a day before the deadline
    bus = RecordingBus()
    settings = Settings()
    monkeypatch.setattr(jobs, "_runtime", lambda: jobs._Runtime(settings, None, db, build_timers(settings), bus))

    await _only(db, first)
    claim = await claim_round(db, FrozenClock(first.due_at))
    assert claim.ids == [first.id]
    assert await jobs._fire_timers(claim.ids, claim.token) == {first.id: "done"}

    assert (OUTBOX, board_change.NAMED_APART) in bus.sent, "the relay is woken, the boards told to wait for the name"
    [payload] = bus.boards()
    change = as_change(payload)
    # Only the lead's board reads again, and only its notices (the reminder pushed to them).
    assert (change.sections, change.people) == (frozenset({"notices"}), frozenset({LEAD}))


async def test_a_job_whose_timers_changed_no_board_wakes_none(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    chat = DispatchChat(db, FrozenClock(T0), room=ROOM)
    await chat.say(BOSS, f"!督办 整理会议纪要 {LEAD} 截止 3天后")
    # The reminder was planned for a deadline that has moved since: it sends nothing.
    async with db.transaction() as session:
        first = await session.scalar(select(Timer).where(Timer.kind == REMIND).order_by(Timer.due_at).limit(1))
        assert first is not None
        first.payload = {**first.payload, "due": (T0 - timedelta(days=1)).isoformat()}  # a deadline since moved
    bus = RecordingBus()
    settings = Settings()
    monkeypatch.setattr(jobs, "_runtime", lambda: jobs._Runtime(settings, None, db, build_timers(settings), bus))
    await _only(db, first)
    claim = await claim_round(db, FrozenClock(first.due_at))
    assert await jobs._fire_timers(claim.ids, claim.token) == {first.id: "done"}
    assert bus.boards() == []
