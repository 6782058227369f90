"""Who may see a voice note (its transcript): the one rule behind ``!search``.

A transcript is seen by whoever spoke it, wherever they ask, and from inside the room it was
sent in: everyone there heard the message and saw the transcript posted in its thread, so
search shows them nothing new. Nobody else sees it, office admins included: a voice message
says no more than the room it was sent to, and admins are not its members by office.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy.ext.asyncio import AsyncSession

from commands.voice.models import VoiceNote


async def can_see(
    session: AsyncSession, note: VoiceNote, viewer: str, roles: Collection[str], *, room_id: str | None = None
) -> bool:
    """`room_id`: the room the question is asked in (a member of it, or Matrix would not deliver it)."""
    return viewer == note.sender or (room_id is not None and room_id == note.room_id)
