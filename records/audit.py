"""The audit trail: append-only, hash-chained, sealed with a key the database never holds.

Each entry's hash covers its sequence number, its content and the previous entry's hash, so an
edited, deleted or reordered entry breaks the chain at that point. Anybody who can write to the
database can recompute the chain, though, so each entry also carries an HMAC of its hash made
with the audit key (records.audit_seal), and the stored tail is sealed the same way. Signed
checkpoints of the head, kept in a table, a file and a chat room, catch a rewrite even by
someone who holds the key. See docs/audit.md for what this protects against and what not.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from records import deferred, kv
from records.audit_seal import (
    Checkpoint,
    CheckpointFileError,
    append_checkpoint,
    installed,
    read_checkpoints,
    same,
    seal_entry,
    seal_tail,
)
from records.clock import Clock, SystemClock
from records.models import AuditCheckpoint, AuditEntry

log = logging.getLogger(__name__)

GENESIS = "0" * 64
TAIL_KEY = "audit.tail"
# Any constant works; it only has to be the same for every writer of the chain.
_CHAIN_LOCK_ID = 0x7A686962616E
_DEFERRED = "audit"
_warned_unsealed = False


def entry_hash(seq: int, at: datetime, actor: str, action: str, subject: str, data: dict[str, Any], prev: str) -> str:
    canonical = json.dumps(
        [seq, at.isoformat(timespec="microseconds"), actor, action, subject, data, prev],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _lock_chain(session: Session) -> None:
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        # Serialise appenders so that two transactions never chain onto the same tail.
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CHAIN_LOCK_ID})


def _process_key() -> bytes | None:
    global _warned_unsealed
    anchors = installed()
    if anchors is None and not _warned_unsealed:
        _warned_unsealed = True
        log.warning("no audit key in this process: new audit entries are written unsealed")
    return None if anchors is None else anchors.key


@dataclass(frozen=True)
class _Entry:
    """An entry recorded, waiting for the transaction's end to be chained (see `record`)."""

    at: datetime
    actor: str
    action: str
    subject: str
    data: dict[str, Any]


async def record(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    subject: str,
    data: dict[str, Any] | None = None,
    clock: Clock | None = None,
) -> None:
    """Append one entry; call it inside the transaction that makes the change it records.

    The entries a transaction records are chained and written together when it commits (or
    when it reads the trail first): one read of the tail, one INSERT of them all and one
    write of the stored tail, however many there are (records.deferred)."""
    at = (clock or SystemClock()).now()
    payload = json.loads(json.dumps(data or {}, ensure_ascii=False, default=str))
    deferred.add(session, _DEFERRED, _Entry(at, actor, action, subject, payload))
    # Appending used to flush the session, and callers may count on the ids that gives the rows
    # they added before it; a flush with nothing new sends nothing.
    await session.flush()


@deferred.writer(_DEFERRED, tables=("audit_log",))
def _append(session: Session, entries: list[_Entry]) -> None:
    """Chain `entries` onto the trail's tail, in the order they were recorded."""
    _lock_chain(session)
    tail = session.execute(select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)).first()
    seq, prev = (0, GENESIS) if tail is None else (tail.seq, tail.hash)
    key = _process_key()
    rows: list[dict[str, Any]] = []
    for entry in entries:
        seq += 1
        digest = entry_hash(seq, entry.at, entry.actor, entry.action, entry.subject, entry.data, prev)
        rows.append(
            {
                "seq": seq,
                "at": entry.at,
                "actor": entry.actor,
                "action": entry.action,
                "subject": entry.subject,
                "data": entry.data,
                "prev_hash": prev,
                "hash": digest,
                "hmac": None if key is None else seal_entry(key, seq, digest),
            }
        )
        prev = digest
    session.execute(insert(AuditEntry), rows)
    # The tail is kept apart from the chain so that cutting entries off the end shows too; it
    # is sealed, so that whoever cuts cannot write a tail that fits the shortened chain.
    tail_value = f"{seq}:{prev}" if key is None else f"{seq}:{prev}:{seal_tail(key, seq, prev)}"
    kv.put_now(session, TAIL_KEY, tail_value)


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    broken_at: int | None = None
    reason: str = ""
    # The first sealed entry; the ones before it were written before sealing began.
    sealed_from: int | None = None
    head: str = GENESIS
    checkpoints: int = 0
    latest: Checkpoint | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def unsealed(self) -> int:
        """How many entries (the oldest) carry no seal."""
        return self.checked if self.sealed_from is None else self.sealed_from - 1


class TrailBroken(Exception):
    """The trail does not verify, so no checkpoint is signed (it would bless the break)."""

    def __init__(self, at: int | None, reason: str) -> None:
        super().__init__(f"the audit trail is broken at entry {at}: {reason}" if at else reason)
        self.at = at
        self.reason = reason


@dataclass
class _Anchor:
    """A checkpoint and where it was found, for the messages."""

    checkpoint: Checkpoint
    source: str

    def named(self) -> str:
        return f"the checkpoint of {self.checkpoint.at:%Y-%m-%d %H:%M:%S} UTC in {self.source}"


class _Walk:
    """Follows the chain entry by entry; raises TrailBroken at the first entry that does not fit."""

    def __init__(self, key: bytes | None, anchors: Sequence[_Anchor] = ()) -> None:
        self.key = key
        self.prev = GENESIS
        self.checked = 0
        self.sealed_from: int | None = None
        self.by_seq: dict[int, list[_Anchor]] = {}
        for anchor in anchors:
            self.by_seq.setdefault(anchor.checkpoint.seq, []).append(anchor)

    def step(self, entry: AuditEntry) -> None:
        expected = self.checked + 1
        if entry.seq != expected:
            raise TrailBroken(expected, f"entry {expected} is missing")
        if entry.prev_hash != self.prev:
            raise TrailBroken(entry.seq, f"entry {entry.seq} does not follow its predecessor")
        actual = entry_hash(entry.seq, entry.at, entry.actor, entry.action, entry.subject, entry.data, entry.prev_hash)
        if actual != entry.hash:
            raise TrailBroken(entry.seq, f"entry {entry.seq} was altered (its content does not match its hash)")
        self._check_seal(entry)
        for anchor in self.by_seq.get(entry.seq, []):
            if anchor.checkpoint.head != entry.hash:
                raise TrailBroken(
                    entry.seq,
                    f"the trail up to entry {entry.seq} differs from {anchor.named()}: "
                    f"entry {entry.seq} or one before it was rewritten",
                )
        self.prev = entry.hash
        self.checked = entry.seq

    def _check_seal(self, entry: AuditEntry) -> None:
        if entry.hmac is None:
            if self.sealed_from is not None:
                raise TrailBroken(
                    entry.seq,
                    f"entry {entry.seq} carries no seal, though the entries from {self.sealed_from} on are sealed: "
                    "it was rewritten (or written by a process without the audit key)",
                )
            return
        if self.sealed_from is None:
            self.sealed_from = entry.seq
        if self.key is None:
            raise TrailBroken(entry.seq, f"entry {entry.seq} is sealed, but no audit key was given to check it")
        if not same(entry.hmac, seal_entry(self.key, entry.seq, entry.hash)):
            raise TrailBroken(
                entry.seq,
                f"entry {entry.seq} was altered: its seal does not match (the chain was recomputed "
                "after an edit, or the entry was sealed with another key)",
            )


async def _entries(session: AsyncSession, after: int = 0) -> AsyncIterator[AuditEntry]:
    rows = await session.stream_scalars(select(AuditEntry).where(AuditEntry.seq > after).order_by(AuditEntry.seq))
    async for entry in rows:
        yield entry


async def _stored_checkpoints(session: AsyncSession) -> list[Checkpoint]:
    rows = await session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id))
    return [Checkpoint(r.seq, r.head, r.at, r.sealed_from, r.hmac) for r in rows]


def _anchors(key: bytes | None, table: list[Checkpoint], checkpoint_file: Path | None) -> list[_Anchor]:
    """Every checkpoint from the table and the file; a forged or unreadable one breaks the proof."""
    anchors: list[_Anchor] = []
    if key is None:
        if table or (checkpoint_file is not None and checkpoint_file.exists()):
            raise TrailBroken(None, "there are checkpoints, but no audit key was given to check them")
        return anchors
    for number, checkpoint in enumerate(table, start=1):
        if not checkpoint.genuine(key):
            raise TrailBroken(
                None,
                f"checkpoint {number} in the database table is not genuine: it was altered "
                "(or signed with another key)",
            )
        anchors.append(_Anchor(checkpoint, "the database"))
    if checkpoint_file is None:
        return anchors
    if not checkpoint_file.exists():
        if table:
            raise TrailBroken(
                None,
                f"the checkpoint file {checkpoint_file} is missing, though the database lists "
                f"{len(table)} checkpoint(s): restore it from a backup",
            )
        return anchors
    try:
        from_file = read_checkpoints(checkpoint_file)
    except (OSError, CheckpointFileError) as exc:
        raise TrailBroken(None, str(exc)) from None
    for number, checkpoint in enumerate(from_file, start=1):
        if not checkpoint.genuine(key):
            raise TrailBroken(
                None,
                f"line {number} of {checkpoint_file} is not a genuine checkpoint: it was altered "
                "(or signed with another key)",
            )
        anchors.append(_Anchor(checkpoint, str(checkpoint_file)))
    return anchors


def _check_against(walk: _Walk, anchors: list[_Anchor]) -> None:
    """The trail must still hold every entry a checkpoint saw, sealed as it was then."""
    for anchor in anchors:
        cp = anchor.checkpoint
        if cp.seq > walk.checked:
            raise TrailBroken(
                walk.checked + 1,
                f"the trail ends at entry {walk.checked}, but {anchor.named()} counted {cp.seq}: "
                "entries were removed from the end",
            )
        sealed_then = cp.sealed_from if cp.sealed_from is not None and cp.sealed_from <= cp.seq else None
        sealed_now = walk.sealed_from if walk.sealed_from is not None and walk.sealed_from <= cp.seq else None
        if sealed_then != sealed_now:
            first = min(s for s in (sealed_then, sealed_now) if s is not None)
            raise TrailBroken(
                first, f"the seals of the entries before entry {cp.seq + 1} differ from {anchor.named()}: rewritten"
            )


async def _check_tail(session: AsyncSession, walk: _Walk) -> None:
    stored = await kv.get(session, TAIL_KEY)
    if stored is None:
        if walk.checked:
            raise TrailBroken(
                walk.checked + 1,
                f"the stored tail ({TAIL_KEY}) is missing: entries from {walk.checked + 1} on may have been removed",
            )
        return
    parts = stored.split(":")
    if len(parts) not in (2, 3) or not parts[0].isdigit():
        raise TrailBroken(None, f"the stored tail ({TAIL_KEY}) is unreadable: it was altered")
    seq, digest = int(parts[0]), parts[1]
    if len(parts) == 3:
        if walk.key is None:
            raise TrailBroken(seq, f"the stored tail ({TAIL_KEY}) is sealed, but no audit key was given to check it")
        if not same(parts[2], seal_tail(walk.key, seq, digest)):
            raise TrailBroken(seq, f"the stored tail ({TAIL_KEY}) is not genuine: it was forged or altered")
    elif walk.sealed_from is not None:
        raise TrailBroken(
            seq, f"the stored tail ({TAIL_KEY}) carries no seal, though the trail is sealed: it was replaced"
        )
    if seq > walk.checked:
        raise TrailBroken(
            walk.checked + 1,
            f"the trail ends at entry {walk.checked}, but the stored tail says {seq}: entries were removed from the end",
        )
    if (seq, digest) != (walk.checked, walk.prev):
        raise TrailBroken(seq, f"the trail does not end where the stored tail says (entry {seq}): it was rewritten")


async def verify(
    session: AsyncSession, *, key: bytes | None = None, checkpoint_file: Path | None = None
) -> Verification:
    """Walk the chain from the start and report the first entry (or anchor) that does not fit.

    `key` is the audit key (default: this process's). Without one, only a trail that has
    nothing sealed and no checkpoint can be proven (by its hashes); anything sealed makes a
    missing key a failure, never "intact". `zhiban audit verify` refuses to run without it.
    `checkpoint_file` is the file copy of the checkpoints, compared as well as the table.
    """
    if key is None:
        anchors_given = installed()
        key = None if anchors_given is None else anchors_given.key
    walk = _Walk(key)
    await deferred.flush(session, _DEFERRED)  # what this transaction recorded is part of the trail
    try:
        anchors = _anchors(key, await _stored_checkpoints(session), checkpoint_file)
        walk = _Walk(key, anchors)
        async for entry in _entries(session):
            walk.step(entry)
        _check_against(walk, anchors)
        await _check_tail(session, walk)
    except TrailBroken as broken:
        return Verification(False, walk.checked, broken.at, broken.reason, walk.sealed_from, walk.prev)
    latest = max((a.checkpoint for a in anchors), key=lambda c: (c.at, c.seq), default=None)
    notes = []
    if walk.checked and walk.sealed_from is None:
        notes.append(
            f"none of the {walk.checked} entries is sealed yet: they were written before sealing began "
            "and are protected by their hashes only"
        )
    elif walk.sealed_from is not None and walk.sealed_from > 1:
        notes.append(
            f"unsealed before seq {walk.sealed_from}: entries 1 to {walk.sealed_from - 1} were written "
            "before sealing began and are protected by their hashes only"
        )
    if not anchors:
        notes.append("no checkpoint yet: take one with `zhiban audit checkpoint`")
    return Verification(True, walk.checked, None, "", walk.sealed_from, walk.prev, len(anchors), latest, tuple(notes))


async def checkpoint(
    session: AsyncSession, *, key: bytes, verified: Verification, clock: Clock, checkpoint_file: Path | None = None
) -> Checkpoint:
    """Sign the current head, after `verified` (a fresh verify) and a check of what came since.

    Call it in a write transaction: it stores the checkpoint in the table and appends it to
    the file (made durable before the commit; a checkpoint in the file whose transaction then
    failed is still a true statement about the trail). It refuses to sign a broken trail: that
    would bless the break.
    """
    if not verified.ok:
        raise TrailBroken(verified.broken_at, verified.reason)
    await deferred.flush(session, _DEFERRED)
    await session.run_sync(_lock_chain)
    walk = _Walk(key)
    walk.prev, walk.checked, walk.sealed_from = verified.head, verified.checked, verified.sealed_from
    async for entry in _entries(session, after=verified.checked):
        walk.step(entry)  # raises TrailBroken
    sealed_from = await session.scalar(select(func.min(AuditEntry.seq)).where(AuditEntry.hmac.is_not(None)))
    signed = Checkpoint.sign(key, seq=walk.checked, head=walk.prev, at=clock.now(), sealed_from=sealed_from)
    session.add(
        AuditCheckpoint(
            seq=signed.seq, head=signed.head, at=signed.at, sealed_from=signed.sealed_from, hmac=signed.hmac
        )
    )
    await session.flush()
    if checkpoint_file is not None:
        append_checkpoint(checkpoint_file, signed)
    return signed


async def history(session: AsyncSession, subject: str) -> list[AuditEntry]:
    rows = await session.scalars(select(AuditEntry).where(AuditEntry.subject == subject).order_by(AuditEntry.seq))
    return list(rows)
