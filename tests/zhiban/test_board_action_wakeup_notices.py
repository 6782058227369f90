"""A board action's wake-up names the chat notices its commit wrote (SQLite and PostgreSQL).

A message an action sends someone in chat is a notice of theirs too (notifications.chat_notices),
written only as the action commits (records.deferred), unless something in the transaction read
the notices first. The wake-up was named before the commit, so such a notice went unnamed and
its reader's open board showed it only at its next full refresh.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from notifications import reach
from records.board_actions import Outcome
from records.db import Database
from server.board import BoardAction
from tests.zhiban.test_board_wakeups_from_chat import RecordingBus
from tests.zhiban.test_board_wiring import A, B, start, wired
from zhiban import board_wiring
from zhiban.board_wiring import Actor, as_change


async def _tell_b(session: AsyncSession, actor: Actor, action: BoardAction) -> Outcome:
    """An action whose one effect is a chat message to B (its notice waits for the commit)."""
    await reach.dm(session, B, f"{actor.user} 已确认 {action.ref}")
    return Outcome(200, "approval.recorded", {"code": action.ref, "user": actor.user})


async def test_a_chat_notice_written_at_commit_is_named_in_the_wake_up(
    tmp_path: Path, db: Database, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(board_wiring._PERFORMERS, "ack", _tell_b)
    approval_id = await start(db)
    bus = RecordingBus()
    board = wired(tmp_path, db, database_url, bus)
    done = await board.act(A, BoardAction(kind="ack", ref=f"A{approval_id}", key="ack-0001-notice"))
    assert done.status == 200
    [payload] = bus.boards()
    change = as_change(payload)
    # B's board alone reads its notices again.
    assert (change.sections, change.people) == (frozenset({"notices"}), frozenset({B}))
    assert done.change == change
