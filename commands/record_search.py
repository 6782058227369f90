"""The seam between a feature's records and `!search` (commands.voice): what a hit is, what a
searcher is, and one place that turns the records a feature's own rule admits into hits.

A feature says only which kind of record it is, how it searches the records a viewer may see
(its `access.search`, so `!search` never shows what `!show` would refuse) and which of a
record's times and people a hit names; it lists the searcher in its plug-in
(commands.plugin.Feature.searchers), and the wiring hands them all to the voice feature.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class SearchHit:
    """One result of ``!search``, whatever kind of record it comes from."""

    kind: str  # "voice", "incident", ...
    code: str  # "V12"
    at: datetime
    author: str
    room_id: str | None
    text: str
    score: int = 0


class Searcher(Protocol):
    """How `!search` asks a feature for its records.

    ``user`` is who searches, ``roles`` their roles (records.people), ``room_id`` where they ask.
    A searcher returns only what its own feature's ``can_see`` admits for them: the rule every
    show, list and export of that record uses.
    """

    def __call__(
        self,
        session: AsyncSession,
        /,
        *,
        user: str,
        room_id: str,
        terms: Sequence[str],
        limit: int,
        roles: Collection[str],
    ) -> Awaitable[list[SearchHit]]: ...


class Titled(Protocol):
    """What every searchable record has: an id people type, the room it was posted in, a title."""

    @property
    def code(self) -> str: ...
    @property
    def room_id(self) -> str | None: ...
    @property
    def title(self) -> str: ...


R = TypeVar("R", bound=Titled)
R_co = TypeVar("R_co", bound=Titled, covariant=True)


class FindVisible(Protocol[R_co]):
    """A feature's `access.search`: the records `viewer` may see whose title holds every term."""

    def __call__(
        self, session: AsyncSession, viewer: str, roles: Collection[str], terms: Sequence[str], /, *, limit: int
    ) -> Awaitable[Sequence[R_co]]: ...


@dataclass(frozen=True)
class RecordSearch(Generic[R]):
    """A searcher (a Feature's ``searchers``) over one kind of record.

    Frozen, so two built alike are equal and registering again adds nothing.
    """

    kind: str  # SearchHit.kind: "approval", "meeting", ...
    find: FindVisible[R]
    at: Callable[[R], datetime]  # the time a hit is dated by
    author: Callable[[R], str]  # who started the record

    async def __call__(
        self,
        session: AsyncSession,
        *,
        user: str,
        room_id: str,
        terms: Sequence[str],
        limit: int = 10,
        roles: Collection[str] = (),
    ) -> list[SearchHit]:
        # `room_id` (where the search is asked) plays no part: being in the room a card was
        # posted in admits nobody to these records; their rule alone decides.
        return [
            SearchHit(
                kind=self.kind,
                code=record.code,
                at=self.at(record),
                author=self.author(record),
                room_id=record.room_id,
                text=record.title,
                score=len(terms),
            )
            for record in await self.find(session, user, roles, terms, limit=limit)
        ]
