"""What a database editor can do to the audit trail, as test helpers (no test runs here)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select

from records import audit, kv
from records.audit_seal import Anchors, install, seal_entry, seal_tail
from records.db import Database
from records.models import AuditEntry, KeyValue

KEY = b"k" * 32 + b"-the-office-audit-key"


def sealed(tmp_path: Path) -> Iterator[Anchors]:
    """For a fixture: this test process seals with KEY and keeps checkpoints in a file of its own."""
    given = Anchors(key=KEY, checkpoint_file=tmp_path / "audit-checkpoints.jsonl", room="!audit:office.example")
    install(given)
    yield given
    install(None)


async def write(db: Database, n: int, *, start: int = 0) -> None:
    for i in range(start, start + n):
        async with db.transaction() as session:
            await audit.record(
                session, actor="@a:x", action="task.create", subject=f"T{i}", data={"i": i, "标题": "防汛"}
            )


async def verify(db: Database, anchors: Anchors, *, key: bytes | None = None) -> audit.Verification:
    async with db.reading() as session:
        return await audit.verify(session, key=key or anchors.key, checkpoint_file=anchors.checkpoint_file)


async def rewrite(db: Database, seq: int, *, key: bytes | None = None, **changes: Any) -> None:
    """Edit entry `seq`, then recompute the chain after it and the stored tail, as an editor would.

    Without `key` the seals cannot be recomputed: they are left as they were (an editor can
    only keep them or drop them). With it, everything in the database is made to fit.
    """
    async with db.transaction() as session:
        entries = list(await session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
        prev = audit.GENESIS if seq == 1 else entries[seq - 2].hash
        for entry in entries[seq - 1 :]:
            if entry.seq == seq:
                for name, value in changes.items():
                    setattr(entry, name, value)
            entry.prev_hash = prev
            entry.hash = audit.entry_hash(
                entry.seq, entry.at, entry.actor, entry.action, entry.subject, entry.data, prev
            )
            if key is not None:
                entry.hmac = seal_entry(key, entry.seq, entry.hash)
            prev = entry.hash
            await session.flush()
        last = entries[-1]
        tail = f"{last.seq}:{last.hash}" + (f":{seal_tail(key, last.seq, last.hash)}" if key else "")
        await kv.put(session, audit.TAIL_KEY, tail)


async def cut_from(db: Database, seq: int, *, tail: bool = True) -> None:
    """Delete entries `seq` and after; with `tail`, delete the stored tail too."""
    async with db.transaction() as session:
        await session.execute(delete(AuditEntry).where(AuditEntry.seq >= seq))
        if tail:
            await session.execute(delete(KeyValue).where(KeyValue.key == audit.TAIL_KEY))
