"""The audit trail detects any edit, deletion or reordering."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, update

from records import audit
from records.audit_seal import Anchors
from records.db import Database
from records.models import AuditEntry
from tests.records.audit_attacks import KEY, sealed


@pytest.fixture(autouse=True)
def anchors(tmp_path: Path) -> Iterator[Anchors]:
    yield from sealed(tmp_path)


async def _write(db: Database, n: int) -> None:
    for i in range(n):
        async with db.transaction() as session:
            await audit.record(
                session, actor="@a:x", action="task.create", subject=f"T{i}", data={"i": i, "标题": "防汛"}
            )


async def test_intact_chain_verifies(db: Database) -> None:
    await _write(db, 5)
    async with db.transaction() as session:
        result = await audit.verify(session, key=KEY)
    assert result.ok and result.checked == 5


async def test_edited_entry_is_detected(db: Database) -> None:
    await _write(db, 5)
    async with db.transaction() as session:
        await session.execute(update(AuditEntry).where(AuditEntry.seq == 3).values(actor="@mallory:x"))
    async with db.transaction() as session:
        result = await audit.verify(session, key=KEY)
    assert not result.ok and result.broken_at == 3


async def test_deleted_entry_is_detected(db: Database) -> None:
    await _write(db, 5)
    async with db.transaction() as session:
        await session.execute(delete(AuditEntry).where(AuditEntry.seq == 2))
    async with db.transaction() as session:
        result = await audit.verify(session, key=KEY)
    assert not result.ok and result.broken_at == 2


async def test_truncated_tail_is_detected(db: Database) -> None:
    await _write(db, 5)
    async with db.transaction() as session:
        await session.execute(delete(AuditEntry).where(AuditEntry.seq >= 4))
    async with db.transaction() as session:
        result = await audit.verify(session, key=KEY)
    assert not result.ok and "end" in result.reason


async def test_reordered_entries_are_detected(db: Database) -> None:
    await _write(db, 4)
    async with db.transaction() as session:
        # Swap the contents of entries 2 and 3, keeping their sequence numbers.
        two = await session.get(AuditEntry, 2)
        three = await session.get(AuditEntry, 3)
        assert two is not None and three is not None
        fields = ("at", "actor", "action", "subject", "data", "prev_hash", "hash")
        a = {f: getattr(two, f) for f in fields}
        b = {f: getattr(three, f) for f in fields}
        await session.execute(update(AuditEntry).where(AuditEntry.seq == 2).values(hash="x" * 64))
        await session.execute(update(AuditEntry).where(AuditEntry.seq == 3).values(**a))
        await session.execute(update(AuditEntry).where(AuditEntry.seq == 2).values(**b))
    async with db.transaction() as session:
        result = await audit.verify(session, key=KEY)
    assert not result.ok and result.broken_at == 2


async def test_a_failed_transaction_leaves_no_entry(db: Database) -> None:
    try:
        async with db.transaction() as session:
            await audit.record(session, actor="@a:x", action="x", subject="T1")
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    await _write(db, 1)
    async with db.transaction() as session:
        result = await audit.verify(session, key=KEY)
        entries = await audit.history(session, "T0")
    assert result.ok and result.checked == 1 and len(entries) == 1
