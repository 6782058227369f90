"""What every feature's need-to-know rule shares; each rule itself stays in its feature's access.py.

An approval, a meeting or a task each has its own `can_see` (who is on the record, which office
roles see every one). Around that rule the steps are the same for all: a record someone may not
see is answered exactly like one that does not exist, a search narrows by a query and lets the
rule decide each candidate, and words are matched inside a title.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import Protocol, TypeVar

from sqlalchemy import ColumnElement, Select, String, cast, func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped

from records.errors import NotFound
from records.people import Role


class Record(Protocol):
    @property
    def id(self) -> int: ...


R = TypeVar("R", bound=Record)

#: A feature's rule: `can_see(session, record, viewer, roles)`.
CanSee = Callable[[AsyncSession, R, str, Collection[str]], Awaitable[bool]]


def is_admin(roles: Collection[str]) -> bool:
    """Office admins see every approval, meeting and room reminder (room power level 100 does not count)."""
    return Role.ADMIN.value in roles


async def require(
    can_see: CanSee[R],
    not_found: Callable[[int], NotFound],
    session: AsyncSession,
    record: R,
    viewer: str,
    roles: Collection[str],
) -> R:
    """`record`, or the very error for a missing one, so that a refusal never confirms it is there."""
    if not await can_see(session, record, viewer, roles):
        raise not_found(record.id)
    return record


async def first_visible(
    can_see: CanSee[R],
    session: AsyncSession,
    query: Select[R],
    viewer: str,
    roles: Collection[str],
    *,
    limit: int,
) -> list[R]:
    """The first `limit` rows of `query` that the rule admits.

    The query only narrows the candidates (JSON lists are matched as text); `can_see` has the
    last word, so a list or a search never shows what the show command would refuse.
    """
    found: list[R] = []
    for record in await session.scalars(query.limit(limit * 4)):
        if await can_see(session, record, viewer, roles):
            found.append(record)
        if len(found) == limit:
            break
    return found


def like_escape(text: str) -> str:
    """`text` as a literal inside a LIKE pattern (with escape="\\")."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def holds_every(column: Mapped[str] | ColumnElement[str], terms: Sequence[str]) -> list[ColumnElement[bool]]:
    """Conditions: `column` contains each of `terms` (given in lower case), in any case."""
    return [func.lower(column).like(f"%{like_escape(term)}%", escape="\\") for term in terms]


def json_names(column: Mapped[list[str]], user: str) -> ColumnElement[bool]:
    """Condition: the JSON list of user ids in `column`, matched as text, holds `user`."""
    return cast(column, String).like(f'%"{like_escape(user)}"%', escape="\\")


async def viewer_roles(resolve_roles: Callable[[str], Awaitable[Collection[str]]] | None, user: str) -> set[str]:
    """The roles a rule is asked with: `resolve_roles` is the dispatcher's (None where a test or a
    timer runs a handler without one, and then the viewer holds no role)."""
    return set(await resolve_roles(user)) if resolve_roles is not None else set()
