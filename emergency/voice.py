"""The seam to the voice feature: a transcript in an open incident's room joins its timeline.

Contributed by this feature (emergency.feature) as one of its voice filers, so
that the voice feature knows nothing of incidents.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from commands.plugin import TranscribedNote
from emergency import incidents
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
