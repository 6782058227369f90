"""The audit trail: append-only and hash-chained.

Each entry's hash covers its sequence number, its content and the previous entry's hash,
so an edited, deleted or reordered entry breaks the chain at that point.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from records import kv
from records.clock import Clock, SystemClock
from records.models import AuditEntry

GENESIS = "0" * 64
TAIL_KEY = "audit.tail"
# Any constant works; it only has to be the same for every writer of the chain.
_CHAIN_LOCK_ID = 0x7A686962616E


def entry_hash(seq: int, at: datetime, actor: str, action: str, subject: str, data: dict[str, Any], prev: str) -> str:
    canonical = json.dumps(
        [seq, at.isoformat(timespec="microseconds"), actor, action, subject, data, prev],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


async def record(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    subject: str,
    data: dict[str, Any] | None = None,
    clock: Clock | None = None,
) -> AuditEntry:
    """Append one entry; call it inside the transaction that makes the change it records."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        # Serialise appenders so that two transactions never chain onto the same tail.
        await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CHAIN_LOCK_ID})
    tail = (await session.execute(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1))).scalar()
    seq = 1 if tail is None else tail.seq + 1
    prev = GENESIS if tail is None else tail.hash
    at = (clock or SystemClock()).now()
    payload = json.loads(json.dumps(data or {}, ensure_ascii=False, default=str))
    entry = AuditEntry(
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        subject=subject,
        data=payload,
        prev_hash=prev,
        hash=entry_hash(seq, at, actor, action, subject, payload, prev),
    )
    session.add(entry)
    # The tail is kept apart from the chain so that cutting entries off the end shows too.
    await kv.put(session, TAIL_KEY, f"{seq}:{entry.hash}")
    await session.flush()
    return entry


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    broken_at: int | None = None
    reason: str = ""


async def verify(session: AsyncSession) -> Verification:
    """Walk the chain from the start and report the first entry that does not fit."""
    prev = GENESIS
    expected_seq = 1
    checked = 0
    rows = await session.stream_scalars(select(AuditEntry).order_by(AuditEntry.seq))
    async for entry in rows:
        if entry.seq != expected_seq:
            return Verification(False, checked, expected_seq, f"entry {expected_seq} is missing")
        if entry.prev_hash != prev:
            return Verification(False, checked, entry.seq, f"entry {entry.seq} does not follow its predecessor")
        actual = entry_hash(entry.seq, entry.at, entry.actor, entry.action, entry.subject, entry.data, entry.prev_hash)
        if actual != entry.hash:
            return Verification(False, checked, entry.seq, f"entry {entry.seq} was altered")
        prev = entry.hash
        expected_seq += 1
        checked += 1
    tail = await kv.get(session, TAIL_KEY)
    if tail is not None and tail != f"{checked}:{prev}":
        return Verification(False, checked, checked + 1, "entries were removed from the end of the trail")
    return Verification(True, checked)


async def history(session: AsyncSession, subject: str) -> list[AuditEntry]:
    rows = await session.scalars(select(AuditEntry).where(AuditEntry.subject == subject).order_by(AuditEntry.seq))
    return list(rows)
