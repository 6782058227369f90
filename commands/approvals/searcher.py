"""The seam to `!search` (commands.voice): approvals whose title holds the words, for those who may see them."""

from __future__ import annotations

import importlib
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from commands.approvals import access

if TYPE_CHECKING:
    from commands.voice.service import SearchHit


async def search_approvals(
    session: AsyncSession,
    *,
    user: str,
    room_id: str,
    terms: Sequence[str],
    limit: int = 10,
    roles: Collection[str] = (),
) -> list[SearchHit]:
    """A searcher (commands.voice.service.register_searcher): the rule of access.can_see decides.

    Being in the room the card was posted in admits nobody to an approval, so `room_id` plays
    no part.
    """
    from commands.voice.service import SearchHit

    return [
        SearchHit(
            kind="approval",
            code=approval.code,
            at=approval.created_at,
            author=approval.requester,
            room_id=approval.room_id,
            text=approval.title,
            score=len(terms),
        )
        for approval in await access.search(session, user, roles, terms, limit=limit)
    ]


def register_searcher() -> None:
    """Join `!search` when the voice feature is installed (idempotent)."""
    try:
        voice = importlib.import_module("commands.voice.service")
    except ImportError:
        return
    voice.register_searcher(search_approvals)
