"""The office's correction memory as stored: misheard → right pairs with their confirmations.

Corrections count pairs in (``count``: the distinct people who confirmed a pair, so one person
repeating a correction is one confirmation however often they repeat it); the worker reads the pairs in force for each job
(``memory_in_force``: confirmed often enough, or by an admin); ``!词表`` shows and forgets them.
"""

from __future__ import annotations

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from commands.voice.models import VoiceMemory, VoiceMemoryConfirmer
from records import audit
from records.clock import Clock
from records.errors import NotAllowed
from voice.memory import CorrectionMemory, Pair

#: Distinct people who must have confirmed a pair before it also fixes homophone spellings.
SOUND_CONFIRMERS = 2


async def count(session: AsyncSession, pair: Pair, *, corrector: str, by_admin: bool, clock: Clock) -> None:
    """``corrector`` confirms ``pair``: counted once per person (an admin's puts it in force)."""
    row = await session.scalar(
        select(VoiceMemory).where(VoiceMemory.heard == pair.heard, VoiceMemory.right == pair.right)
    )
    if row is None:
        now = clock.now()
        row = VoiceMemory(heard=pair.heard, right=pair.right, count=0, by_admin=False, created_at=now, updated_at=now)
        session.add(row)
        await session.flush()
    known = await session.get(VoiceMemoryConfirmer, (row.id, corrector))
    if known is None:
        session.add(VoiceMemoryConfirmer(memory_id=row.id, corrector=corrector, created_at=clock.now()))
        await session.flush()
        # The recorded confirmers, not ``count + 1``: pairs learnt before confirmers were recorded
        # carry a count of 1 with nobody behind it, and their first corrector confirming again
        # must not pass for a second person.
        row.count = await _confirmers(session, row.id)
    row.by_admin = row.by_admin or by_admin
    row.updated_at = clock.now()
    await session.flush()


async def _confirmers(session: AsyncSession, memory_id: int) -> int:
    found = await session.scalar(
        select(func.count()).select_from(VoiceMemoryConfirmer).where(VoiceMemoryConfirmer.memory_id == memory_id)
    )
    return int(found or 0)


async def memory_rows(session: AsyncSession) -> list[VoiceMemory]:
    return list(await session.scalars(select(VoiceMemory).order_by(VoiceMemory.heard, VoiceMemory.count.desc())))


def in_force(row: VoiceMemory, confirmations: int) -> bool:
    return row.by_admin or row.count >= confirmations


async def memory_in_force(session: AsyncSession, confirmations: int) -> CorrectionMemory:
    """The pairs later transcripts use; for a span heard with several corrections, the most
    confirmed (an admin's first)."""
    rows = await session.scalars(
        select(VoiceMemory).where(or_(VoiceMemory.by_admin.is_(True), VoiceMemory.count >= confirmations))
    )
    best: dict[str, VoiceMemory] = {}
    for row in rows:
        held = best.get(row.heard)
        if held is None or (row.by_admin, row.count) > (held.by_admin, held.count):
            best[row.heard] = row
    # Other spellings of the same sound follow a pair only once several people agreed on it:
    # an admin's correction alone puts the exact pair in force, not its homophones.
    return CorrectionMemory.of(
        Pair(heard, row.right, by_sound=row.count >= SOUND_CONFIRMERS) for heard, row in best.items()
    )


async def forget(session: AsyncSession, heard: str, *, actor: str, clock: Clock) -> list[str]:
    """Remove every memory pair for the misheard ``heard``; returns the right spans forgotten."""
    rows = list(await session.scalars(select(VoiceMemory).where(VoiceMemory.heard == heard)))
    if not rows:
        raise NotAllowed("glossary.memory_not_found", heard=heard)
    # Explicitly, not by the foreign key's cascade: SQLite enforces it only when told to.
    await session.execute(delete(VoiceMemoryConfirmer).where(VoiceMemoryConfirmer.memory_id.in_([r.id for r in rows])))
    await session.execute(delete(VoiceMemory).where(VoiceMemory.heard == heard))
    gone = [row.right for row in rows]
    await audit.record(
        session, actor=actor, action="voice.memory.forget", subject=heard, data={"right": gone}, clock=clock
    )
    return gone
