"""The seam to `!search` (commands.voice): meetings whose title holds the words, for those who may see them."""

from __future__ import annotations

import importlib
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from commands.meetings import access

if TYPE_CHECKING:
    from commands.voice.service import SearchHit


async def search_meetings(
    session: AsyncSession,
    *,
    user: str,
    room_id: str,
    terms: Sequence[str],
    limit: int = 10,
    roles: Collection[str] = (),
) -> list[SearchHit]:
    """A searcher (commands.voice.service.register_searcher): the rule of access.can_see decides.

    Being in the room the card was posted in admits nobody to a meeting, so `room_id` plays no
    part. A hit is dated by the meeting's start, the time people know it by.
    """
    from commands.voice.service import SearchHit

    return [
        SearchHit(
            kind="meeting",
            code=meeting.code,
            at=meeting.starts_at,
            author=meeting.organizer,
            room_id=meeting.room_id,
            text=meeting.title,
            score=len(terms),
        )
        for meeting in await access.search(session, user, roles, terms, limit=limit)
    ]


def register_searcher() -> None:
    """Join `!search` when the voice feature is installed (idempotent)."""
    try:
        voice = importlib.import_module("commands.voice.service")
    except ImportError:
        return
    voice.register_searcher(search_meetings)
