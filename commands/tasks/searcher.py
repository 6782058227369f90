"""The seam to `!search` (commands.voice): tasks whose title holds the words, for those who may see them."""

from __future__ import annotations

import importlib
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from commands.tasks import access

if TYPE_CHECKING:
    from commands.voice.service import SearchHit


async def search_tasks(
    session: AsyncSession,
    *,
    user: str,
    room_id: str,
    terms: Sequence[str],
    limit: int = 10,
    roles: Collection[str] = (),
) -> list[SearchHit]:
    """A searcher (commands.voice.service.register_searcher): the rule of access.can_see decides.

    Being in the room the card was posted in admits nobody to a task, so `room_id` plays no part.
    """
    from commands.voice.service import SearchHit

    return [
        SearchHit(
            kind="task",
            code=task.code,
            at=task.created_at,
            author=task.assigner,
            room_id=task.room_id,
            text=task.title,
            score=len(terms),
        )
        for task in await access.search(session, user, roles, terms, limit=limit)
    ]


def register_searcher() -> None:
    """Join `!search` when the voice feature is installed (idempotent)."""
    try:
        voice = importlib.import_module("commands.voice.service")
    except ImportError:
        return
    voice.register_searcher(search_tasks)
