"""The board's source as the server uses it: actions through the chat services, exactly once per
key (a double tap, a retry, two server copies), need-to-know first, and the wake-ups that keep
open boards live. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import ColumnElement, func, select

from commands.approvals import service
from commands.approvals.chain import parse_chain
from commands.approvals.models import ApprovalSigner
from records import outbox
from records.clock import FrozenClock
from records.config import DatabaseSettings, Settings
from records.db import Base, Database
from records.models import AuditEntry, BoardActionKey, OutboxMessage
from server.board import EVERYTHING, BoardAction, BoardChange
from zhiban.board_wiring import WiredBoard
from zhiban.wakeup import BOARD, WakeBus

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
REQ, A, B, EVE = (f"@{n}:localhost" for n in ("req", "a", "b", "eve"))
ROOM = "!room:localhost"
BOUND = 20.0  # seconds before a broken wake-up fails the test instead of hanging it


def wired(tmp_path: Path, db: Database, database_url: str, wake: WakeBus | None = None) -> WiredBoard:
    settings = Settings(data_dir=tmp_path, database=DatabaseSettings(url=database_url))
    return WiredBoard(settings, db, FrozenClock(T0), wake)


async def start(db: Database) -> int:
    async with db.transaction() as session:
        approval = await service.start_approval(
            session,
            requester=REQ,
            title="关于防汛物资采购的请示",
            steps=parse_chain(f"{A} > {B}"),
            room_id=ROOM,
            clock=FrozenClock(T0),
        )
        await outbox.enqueue(session, outbox.text_content("card"), room_id=ROOM, ref=service.card_ref(approval.id))
        return approval.id


async def decisions(db: Database, approval_id: int) -> list[tuple[str, str | None]]:
    async with db.reading() as session:
        rows = await session.execute(
            select(ApprovalSigner.user_id, ApprovalSigner.decision).where(
                ApprovalSigner.decision.is_not(None), ApprovalSigner.decision != "drafted"
            )
        )
        return [(user, decision) for user, decision in rows]


async def count(db: Database, model: type[Base], *where: ColumnElement[bool]) -> int:
    async with db.reading() as session:
        found: int | None = await session.scalar(select(func.count()).select_from(model).where(*where))
        return found or 0


async def test_a_double_tap_and_a_retry_decide_once(tmp_path: Path, db: Database, database_url: str) -> None:
    approval_id = await start(db)
    board = wired(tmp_path, db, database_url)
    edits_before = await count(db, OutboxMessage, OutboxMessage.relation.is_not(None))
    tap = BoardAction(kind="approve", ref=f"A{approval_id}", key="tap-0001-same", opinion="同意采购")
    # Two taps at once (two requests in flight), then the browser's retry after a lost answer.
    first, second = await asyncio.gather(board.act(A, tap), board.act(A, tap))
    retry = await board.act(A, tap)

    assert first.status == second.status == retry.status == 200
    assert first.message == second.message == retry.message == f"✅ A{approval_id}「第1步」已完成，已转下一步：{B}"
    assert sorted([first.replayed, second.replayed]) == [False, True] and retry.replayed
    assert await decisions(db, approval_id) == [(A, "approve")]
    assert await count(db, AuditEntry, AuditEntry.action == "approval.approve") == 1
    assert await count(db, BoardActionKey) == 1
    # The card in the room is edited through the outbox, as a decision in chat edits it.
    assert await count(db, OutboxMessage, OutboxMessage.relation.is_not(None)) > edits_before


async def test_a_stranger_is_told_nothing_and_changes_nothing(tmp_path: Path, db: Database, database_url: str) -> None:
    approval_id = await start(db)
    board = wired(tmp_path, db, database_url)
    code = f"A{approval_id}"
    stranger = await board.act(EVE, BoardAction(kind="approve", ref=code, key="eve-0001-x", lang="en"))
    missing = await board.act(EVE, BoardAction(kind="approve", ref="A999", key="eve-0002-x", lang="en"))
    assert (stranger.status, stranger.message) == (404, f"No approval {code}.")
    assert (missing.status, missing.message) == (404, "No approval A999.")  # the same answer: nothing confirmed
    assert await decisions(db, approval_id) == []


async def test_a_refusal_is_bilingual_and_a_retry_is_refused_alike(
    tmp_path: Path, db: Database, database_url: str
) -> None:
    approval_id = await start(db)
    board = wired(tmp_path, db, database_url)
    code = f"A{approval_id}"
    zh = await board.act(A, BoardAction(kind="reject", ref=code, key="rej-0001-x", lang="zh"))
    en = await board.act(A, BoardAction(kind="reject", ref=code, key="rej-0001-x", lang="en"))
    assert (zh.status, zh.message) == (409, f"驳回或退回 {code} 需要写明理由。")
    assert (en.status, en.message, en.replayed) == (409, f"Rejecting or returning {code} needs a reason.", True)
    # A new action (a new key) with the reason goes through.
    done = await board.act(A, BoardAction(kind="reject", ref=code, key="rej-0002-x", opinion="预算不足"))
    assert done.status == 200 and await decisions(db, approval_id) == [(A, "reject")]


async def test_the_snapshot_is_the_board_of_the_person(tmp_path: Path, db: Database, database_url: str) -> None:
    board = wired(tmp_path, db, database_url)
    snapshot = await board.snapshot(A, "en")
    assert snapshot["user"] == A and snapshot["lang"] == "en" and snapshot["tz"] == "Asia/Shanghai"
    assert isinstance(snapshot["sections"], list)


async def test_a_wake_up_after_a_commit_reaches_the_watch(
    tmp_path: Path, db: Database, database_url: str, redis_url: str
) -> None:
    listener = WakeBus(redis_url, "board-test")
    board = wired(tmp_path, db, database_url, listener)
    heard: list[BoardChange] = []
    changed = asyncio.Event()

    def hear(change: BoardChange) -> None:
        heard.append(change)
        changed.set()

    watching = asyncio.create_task(board.watch(hear))
    sender = WakeBus(redis_url, "board-test")
    try:
        # The subscription starts in the background: publish until it is heard (bounded).
        async with asyncio.timeout(BOUND):
            while not changed.is_set():
                await sender.publish(BOARD, '{"sections":["notices"],"people":["@a:localhost"]}')
                await asyncio.sleep(0.05)
            # What the wake-up named reaches the hub; an unnamed one changes everything.
            assert heard[0] == BoardChange(sections=frozenset({"notices"}), people=frozenset({A}))
            changed.clear()
            await sender.publish(BOARD)
            await changed.wait()
            assert heard[-1] == EVERYTHING
    finally:
        watching.cancel()
        await sender.close()
        await board.close()


async def test_a_key_reused_for_another_action_is_refused_not_answered_with_the_first(
    tmp_path: Path, db: Database, database_url: str
) -> None:
    first_id, second_id = await start(db), await start(db)
    board = wired(tmp_path, db, database_url)
    key = "key-0001-reused"
    done = await board.act(A, BoardAction(kind="approve", ref=f"A{first_id}", key=key, opinion="同意"))
    assert done.status == 200
    # The same key for another record or another kind: not the first outcome, and nothing decided.
    other_ref = await board.act(A, BoardAction(kind="approve", ref=f"A{second_id}", key=key, lang="en"))
    other_kind = await board.act(A, BoardAction(kind="reject", ref=f"A{first_id}", key=key, opinion="不同意"))
    assert (other_ref.status, other_ref.code) == (409, "board.key_reused")
    assert f"A{first_id}" not in other_ref.message and "key" in other_ref.message
    assert (other_kind.status, other_kind.code) == (409, "board.key_reused")
    assert (
        await count(db, ApprovalSigner, ApprovalSigner.approval_id == second_id, ApprovalSigner.decision == "approve")
        == 0
    )
    # Another person's identical key is theirs alone: their own action runs and is checked.
    theirs = await board.act(EVE, BoardAction(kind="approve", ref=f"A{second_id}", key=key, lang="en"))
    assert (theirs.status, theirs.replayed) == (404, False)
    assert (
        await count(db, ApprovalSigner, ApprovalSigner.approval_id == second_id, ApprovalSigner.decision == "approve")
        == 0
    )


class RecordingBus(WakeBus):
    """The wake-ups an action publishes, kept instead of sent (what is asserted is their absence)."""

    def __init__(self) -> None:
        super().__init__("redis://unused", "board-test")
        self.topics: list[str] = []

    async def publish(self, topic: str, payload: str = "") -> None:
        self.topics.append(topic)


async def test_only_an_action_that_changed_something_wakes_the_boards(
    tmp_path: Path, db: Database, database_url: str
) -> None:
    approval_id = await start(db)
    bus = RecordingBus()
    board = wired(tmp_path, db, database_url, bus)
    code = f"A{approval_id}"
    # A refusal (a stranger, a reject without reason) changes nothing: no board anywhere reads again.
    await board.act(EVE, BoardAction(kind="approve", ref=code, key="eve-0001-wake"))
    await board.act(A, BoardAction(kind="reject", ref=code, key="rej-0001-wake"))
    assert bus.topics == []
    done = await board.act(A, BoardAction(kind="approve", ref=code, key="ok-0001-wake"))
    assert done.status == 200 and BOARD in bus.topics
