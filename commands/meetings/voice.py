"""The seam to the voice feature: a transcript in a meeting card's thread joins the minutes.

Contributed by this feature (commands.meetings.feature) as one of its voice filers.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from commands.meetings import minutes, service
from commands.meetings.models import MinuteLine
from commands.meetings.policy import MeetingPolicy
from commands.plugin import TranscribedNote
from records.clock import Clock


async def file_to_minutes(session: AsyncSession, note: TranscribedNote, clock: Clock) -> str | None:
    """A voice filer (commands.plugin.VoiceFiler): returns "minutes:M3" when filed.

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


async def amend_minutes(session: AsyncSession, note: TranscribedNote, before: str, clock: Clock) -> bool:
    """The minutes' line of a corrected transcript says what the speaker corrected it to."""
    line = await session.scalar(
        select(MinuteLine).where(MinuteLine.event_id == note.event_id, MinuteLine.source == "voice").limit(1)
    )
    if line is None or not note.text:
        return False
    line.text = f"🎙️ {note.text}"[:4000]
    return True


async def may_file_minutes(session: AsyncSession, thread_root: str | None, user: str) -> tuple[str, bool] | None:
    """Whether ``user`` may add to the minutes of the meeting whose card ``thread_root`` is
    (its organizer or one invited), as ``add_minute`` will check; None outside a meeting."""
    meeting = await minutes.meeting_of_thread(session, thread_root)
    if meeting is None:
        return None
    allowed = user == meeting.organizer or await service.attendee(session, meeting.id, user) is not None
    return meeting.code, allowed
