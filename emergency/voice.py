"""The seam to the voice feature: a transcript in an open incident's room joins its timeline.

Contributed by this feature (emergency.feature) as one of its voice filers, so
that the voice feature knows nothing of incidents.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from commands.plugin import TranscribedNote
from emergency import incidents
from emergency.models import TimelineEntry
from records.clock import Clock


async def file_to_incident(session: AsyncSession, note: TranscribedNote, clock: Clock) -> str | None:
    """A voice filer: returns "timeline:<incident>" when the note was said in an open incident's room."""
    incident = await incidents.in_room(session, note.room_id)
    if incident is None or incident.status != "open":
        return None
    await incidents.add_timeline(
        session,
        incident,
        "voice",
        note.sender,
        f"🎙️ {note.text}"[:2000],
        clock=clock,
        event_id=note.event_id,
    )
    return f"timeline:{incident.code}"


async def amend_timeline(session: AsyncSession, note: TranscribedNote, before: str, clock: Clock) -> bool:
    """The timeline entry of a corrected transcript says what the speaker corrected it to."""
    entry = await session.scalar(
        select(TimelineEntry).where(TimelineEntry.event_id == note.event_id, TimelineEntry.kind == "voice").limit(1)
    )
    if entry is None or not note.text:
        return False
    entry.text = f"🎙️ {note.text}"[:2000]
    return True
