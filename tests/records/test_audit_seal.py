"""Someone who can write to the database cannot rewrite, cut or empty the audit trail unseen.

Each attack below passed `verify` before entries were sealed and the head was checkpointed
outside the database.
"""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from commands.audit import service
from records import audit
from records.audit_seal import Anchors, AuditKeyError, Checkpoint, install, load_key, read_checkpoints
from records.clock import FrozenClock, SystemClock
from records.config import Settings
from records.db import Database
from records.models import AuditCheckpoint, AuditEntry, OutboxMessage, Timer
from records.timers import run_timer
from tests.records.audit_attacks import KEY, cut_from, rewrite, sealed, verify, write
from zhiban.app import build_timers


@pytest.fixture
def anchors(tmp_path: Path) -> Iterator[Anchors]:
    yield from sealed(tmp_path)


async def _checkpoint(db: Database, anchors: Anchors) -> Checkpoint:
    return await service.take(db, anchors, SystemClock())


# -- the honest path --------------------------------------------------------------------------
async def test_normal_operation_with_checkpoints_verifies_intact(db: Database, anchors: Anchors) -> None:
    await write(db, 5)
    first = await _checkpoint(db, anchors)
    await write(db, 2, start=5)
    second = await _checkpoint(db, anchors)
    await write(db, 1, start=7)

    result = await verify(db, anchors)

    assert result.ok, result.reason
    assert result.checked == 8 and result.sealed_from == 1 and result.unsealed == 0
    assert result.checkpoints == 4  # two in the table, the same two in the file
    assert result.latest is not None and result.latest.seq == 7
    assert not any("unsealed" in note for note in result.notes)
    assert (first.seq, second.seq) == (5, 7)
    assert [c.seq for c in read_checkpoints(anchors.checkpoint_file or Path())] == [5, 7]
    async with db.reading() as session:
        posted = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    assert [m.room_id for m in posted] == [anchors.room, anchors.room]
    assert posted[1].content["zhiban.audit_checkpoint"]["head"] == second.head
    assert "审计检查点" in posted[1].content["body"] and second.head in posted[1].content["body"]


async def test_an_empty_trail_with_no_checkpoint_is_intact(db: Database, anchors: Anchors) -> None:
    result = await verify(db, anchors)
    assert result.ok and result.checked == 0
    assert any("no checkpoint" in note for note in result.notes)


# -- attacks by a database editor without the key ------------------------------------------------
async def test_edit_with_recomputed_chain_and_tail_is_detected(db: Database, anchors: Anchors) -> None:
    await write(db, 5)
    await rewrite(db, 3, actor="@mallory:x")
    result = await verify(db, anchors)
    assert not result.ok and result.broken_at == 3
    assert "altered" in result.reason


async def test_edit_with_recomputed_chain_and_dropped_seals_is_detected(db: Database, anchors: Anchors) -> None:
    await write(db, 5)
    await rewrite(db, 3, actor="@mallory:x", hmac=None)
    async with db.transaction() as session:
        await session.execute(update(AuditEntry).where(AuditEntry.seq >= 3).values(hmac=None))
    result = await verify(db, anchors)
    assert not result.ok and result.broken_at == 3 and "no seal" in result.reason


async def test_deleting_the_last_entries_and_the_tail_is_detected(db: Database, anchors: Anchors) -> None:
    await write(db, 5)
    await cut_from(db, 4)
    result = await verify(db, anchors)
    assert not result.ok and result.broken_at == 4
    assert "tail" in result.reason and "missing" in result.reason


async def test_deleting_the_last_entries_and_writing_a_fitting_tail_is_detected(db: Database, anchors: Anchors) -> None:
    await write(db, 5)
    await cut_from(db, 4, tail=False)
    async with db.transaction() as session:
        third = await session.get(AuditEntry, 3)
        assert third is not None
        from records import kv

        await kv.put(session, audit.TAIL_KEY, f"3:{third.hash}")  # no key: no seal for it
    result = await verify(db, anchors)
    assert not result.ok and "tail" in result.reason


async def test_deleting_everything_is_detected_by_the_checkpoints(db: Database, anchors: Anchors) -> None:
    await write(db, 5)
    await _checkpoint(db, anchors)
    await cut_from(db, 1)
    result = await verify(db, anchors)
    assert not result.ok and result.broken_at == 1
    assert "counted 5" in result.reason and "removed" in result.reason


async def test_deleting_everything_and_the_checkpoint_rows_is_caught_by_the_file(
    db: Database, anchors: Anchors
) -> None:
    await write(db, 5)
    await _checkpoint(db, anchors)
    await cut_from(db, 1)
    async with db.transaction() as session:
        await session.execute(delete(AuditCheckpoint))
    result = await verify(db, anchors)
    assert not result.ok and result.broken_at == 1
    assert str(anchors.checkpoint_file) in result.reason


async def test_editing_the_checkpoint_table_too_is_detected(db: Database, anchors: Anchors) -> None:
    await write(db, 5)
    await _checkpoint(db, anchors)
    await rewrite(db, 2, data={"i": 1, "标题": "改过的"})
    async with db.transaction() as session:
        fifth = await session.get(AuditEntry, 5)
        assert fifth is not None
        await session.execute(update(AuditCheckpoint).values(head=fifth.hash))
    result = await verify(db, anchors)
    assert not result.ok and "not genuine" in result.reason


async def test_a_forged_line_in_the_checkpoint_file_is_detected(db: Database, anchors: Anchors) -> None:
    await write(db, 2)
    await _checkpoint(db, anchors)
    path = anchors.checkpoint_file or Path()
    line = json.loads(path.read_text())
    line["seq"] = 1
    path.write_text(json.dumps(line) + "\n")
    result = await verify(db, anchors)
    assert not result.ok and "line 1" in result.reason


# -- someone holding both the key and the database -------------------------------------------
async def test_a_full_rewrite_with_the_key_is_caught_by_the_checkpoint_file(db: Database, anchors: Anchors) -> None:
    await write(db, 5)
    await _checkpoint(db, anchors)
    await rewrite(db, 3, key=KEY, actor="@mallory:x")
    async with db.transaction() as session:
        # Re-sign the table's checkpoint to fit the rewritten chain.
        fifth = await session.get(AuditEntry, 5)
        row = await session.scalar(select(AuditCheckpoint))
        assert fifth is not None and row is not None
        forged = Checkpoint.sign(KEY, seq=5, head=fifth.hash, at=row.at, sealed_from=row.sealed_from)
        row.head, row.hmac = forged.head, forged.hmac
    result = await verify(db, anchors)
    assert not result.ok and result.broken_at == 5
    assert str(anchors.checkpoint_file) in result.reason and "rewritten" in result.reason
    without_file = Anchors(key=KEY, checkpoint_file=None)
    assert (await verify(db, without_file)).ok  # what the file is for: the database alone is fooled


# -- keys, old entries, refusals -----------------------------------------------------------
async def test_another_key_does_not_verify(db: Database, anchors: Anchors) -> None:
    await write(db, 2)
    result = await verify(db, anchors, key=b"x" * 40)
    assert not result.ok and result.broken_at == 1


async def test_entries_from_before_sealing_verify_by_hash_and_are_named(db: Database, tmp_path: Path) -> None:
    install(None)  # an older release: no seals
    await write(db, 3)
    anchors = next(sealed(tmp_path))
    try:
        await write(db, 2, start=3)
        result = await verify(db, anchors)
        assert result.ok and result.checked == 5 and result.sealed_from == 4 and result.unsealed == 3
        assert any("unsealed before seq 4" in note for note in result.notes)
        await rewrite(db, 2, actor="@mallory:x")  # an old entry, chain recomputed
        broken = await verify(db, anchors)
        assert not broken.ok and broken.broken_at == 4  # the first seal no longer fits
    finally:
        install(None)


async def test_only_old_entries_and_their_old_tail_verify(db: Database, tmp_path: Path) -> None:
    install(None)
    await write(db, 2)
    result = await verify(db, Anchors(key=KEY, checkpoint_file=tmp_path / "c.jsonl"))
    assert result.ok and result.sealed_from is None
    assert any("none of the 2 entries is sealed" in note for note in result.notes)


async def test_no_checkpoint_is_signed_for_a_broken_trail(db: Database, anchors: Anchors) -> None:
    await write(db, 3)
    await rewrite(db, 2, actor="@mallory:x")
    with pytest.raises(audit.TrailBroken):
        await _checkpoint(db, anchors)
    async with db.reading() as session:
        assert await session.scalar(select(AuditCheckpoint)) is None
        alert = await session.scalar(select(OutboxMessage))
    assert alert is not None and alert.room_id == anchors.room and "第 2 条" in alert.content["body"]
    assert not (anchors.checkpoint_file or Path()).exists()


# -- the daily timer -----------------------------------------------------------------------
async def test_the_daily_timer_takes_a_checkpoint_and_plans_the_next(db: Database, anchors: Anchors) -> None:
    clock = FrozenClock(datetime(2026, 12, 3, 8, 0, tzinfo=UTC))
    await write(db, 2)
    async with db.transaction() as session:
        await service.plan(session, clock, every_hours=24)
        await service.plan(session, clock, every_hours=24)  # a restart plans nothing twice
    clock.advance(service.FIRST_AFTER)
    async with db.reading() as session:
        timer = await session.scalar(select(Timer).where(Timer.kind == service.KIND))
    assert timer is not None
    async with db.transaction() as session:
        await session.execute(update(Timer).where(Timer.id == timer.id).values(status="claimed"))
    assert await run_timer(db, timer.id, build_timers(Settings()), clock) == "done"
    async with db.reading() as session:
        again = await session.get(Timer, timer.id)
        stored = list(await session.scalars(select(AuditCheckpoint)))
        count = len(list(await session.scalars(select(Timer).where(Timer.kind == service.KIND))))
    assert again is not None and again.status == "pending"
    assert again.due_at == clock.now() + timedelta(hours=24)
    assert count == 1 and [c.seq for c in stored] == [2]
    assert (await verify(db, anchors)).ok


async def test_without_a_key_sealed_entries_are_never_reported_intact(db: Database, anchors: Anchors) -> None:
    await write(db, 2)
    install(None)
    async with db.reading() as session:
        result = await audit.verify(session)
    assert not result.ok and result.broken_at == 1 and "no audit key" in result.reason


def test_the_key_file_is_made_once_owner_only_and_then_kept(tmp_path: Path) -> None:
    path = tmp_path / "data" / "audit.key"
    with pytest.raises(AuditKeyError, match="no audit key"):
        load_key(path, create=False)
    first = load_key(path, create=True)
    assert load_key(path, create=True) == first == load_key(path, create=False)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and len(first) >= 32
    path.write_text("short\n")
    with pytest.raises(AuditKeyError, match="at least 32"):
        load_key(path, create=False)
