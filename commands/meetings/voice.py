"""The seam to the voice feature: a transcript in a meeting card's thread joins the minutes."""

from __future__ import annotations

import importlib
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from commands.meetings import minutes
from commands.meetings.policy import MeetingPolicy
from records.clock import Clock


async def file_to_minutes(session: AsyncSession, note: Any, clock: Clock) -> str | None:
    """A voice filer (commands.voice.service.register_filer): returns "minutes:M3" when filed.

    The sign-in window is not known here (no settings in the worker), so the default policy
    decides when minute-taking starts; a refusal (DomainError) lets the next filer try.
    """
    meeting = await minutes.meeting_of_thread(session, getattr(note, "thread_root", None))
    if meeting is None or not note.text or not minutes.taking_minutes(meeting, MeetingPolicy(), clock.now()):
        return None
    await minutes.add_minute(
        session, meeting.id, note.sender, f"🎙️ {note.text}", clock=clock, source="voice", event_id=note.event_id
    )
    return f"minutes:{meeting.code}"


def register_voice_filer() -> None:
    """Hook into the voice pipeline when it is installed (idempotent)."""
    try:
        voice = importlib.import_module("commands.voice.service")
    except ImportError:
        return
    register = getattr(voice, "register_filer", None)
    if register is not None:
        register(file_to_minutes)
