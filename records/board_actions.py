"""Actions taken from the board, each exactly once per (person, idempotency key).

The browser sends one key per action and the same key again on a double tap or a retry.
The key's row is written in the transaction of the action itself, first, so a second request
with the key either finds the row (and answers with the stored outcome) or waits on the
first one's lock and then finds it; the unique index settles two copies of the server.
A refusal is an outcome too: the same retry is refused the same way, with nothing changed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from records.clock import Clock
from records.db import Database
from records.errors import DomainError, NotAllowed, NotFound
from records.models import BoardActionKey


@dataclass(frozen=True)
class Outcome:
    """A text key and its parameters (rendered in the reader's language), with an HTTP status."""

    status: int
    key: str
    params: dict[str, str]

    def as_json(self) -> dict[str, Any]:
        return {"key": self.key, "params": self.params}


def refusal(exc: DomainError) -> Outcome:
    status = 404 if isinstance(exc, NotFound) else 403 if isinstance(exc, NotAllowed) else 409
    return Outcome(status, exc.key, {name: str(value) for name, value in exc.params.items()})


Perform = Callable[[AsyncSession], Awaitable[Outcome]]


# A key the browser sent before with another action (a bug or a forged request): answering with
# the first action's outcome would report something done that was not, so it is refused.
KEY_REUSED = Outcome(409, "board.key_reused", {})


async def _stored(session: AsyncSession, user_id: str, key: str, kind: str, ref: str) -> Outcome | None:
    row = await session.scalar(
        select(BoardActionKey).where(BoardActionKey.user_id == user_id, BoardActionKey.key == key)
    )
    if row is None:
        return None
    if (row.kind, row.ref) != (kind, ref):
        return KEY_REUSED
    return Outcome(row.status, str(row.outcome["key"]), dict(row.outcome.get("params") or {}))


async def once(
    db: Database, user_id: str, key: str, kind: str, ref: str, perform: Perform, clock: Clock
) -> tuple[Outcome, bool]:
    """Run `perform` in a transaction unless this key has run before; (outcome, replayed).
    A key that ran before for another kind or record is refused (KEY_REUSED), nothing done."""
    try:
        async with db.transaction() as session:
            stored = await _stored(session, user_id, key, kind, ref)
            if stored is not None:
                return stored, True
            row = BoardActionKey(
                user_id=user_id, key=key, kind=kind, ref=ref, status=0, outcome={}, created_at=clock.now()
            )
            session.add(row)
            await session.flush()  # takes the unique key now: a concurrent twin waits here
            try:
                async with session.begin_nested():  # a refusal undoes whatever the service began
                    outcome = await perform(session)
            except DomainError as exc:
                outcome = refusal(exc)
            row.status, row.outcome = outcome.status, outcome.as_json()
            return outcome, False
    except IntegrityError:
        # The twin committed first (another server copy): its outcome is the answer.
        async with db.reading() as session:
            stored = await _stored(session, user_id, key, kind, ref)
        if stored is None:
            raise
        return stored, True


# A retry comes within minutes of its action (a lost answer, a double tap); a month is ample,
# and the daily housekeeping (commands.general.service) removes older keys.
KEEP = timedelta(days=30)


async def prune(session: AsyncSession, now: datetime) -> int:
    result = await session.execute(delete(BoardActionKey).where(BoardActionKey.created_at < now - KEEP))
    return int(getattr(result, "rowcount", 0) or 0)
