"""The seam to the voice feature: a transcript in a meeting card's thread joins the minutes.

Registered by this feature (commands.meetings.feature) with commands.voice.service.register_filer.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from commands.meetings import minutes
from commands.meetings.policy import MeetingPolicy
from commands.voice.models import VoiceNote
from records.clock import Clock


async def file_to_minutes(session: AsyncSession, note: VoiceNote, clock: Clock) -> str | None:
    """A voice filer (commands.voice.service.register_filer): returns "minutes:M3" when filed.

    The sign-in window is not known here (no settings in the worker), so the default policy
    decides when minute-taking starts; a refusal (DomainError) lets the next filer try.
    """
    meeting = await minutes.meeting_of_thread(session, note.thread_root)
    if meeting is None or not note.text or not minutes.taking_minutes(meeting, MeetingPolicy(), clock.now()):
        return None
    await minutes.add_minute(
        session, meeting.id, note.sender, f"🎙️ {note.text}", clock=clock, source="voice", event_id=note.event_id
    )
    return f"minutes:{meeting.code}"
