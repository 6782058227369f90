"""Wizard (FSM) state in the database, written in the transaction of the turn that moves it.

The exactly-once middleware binds its session for the length of a turn (`bound_to`), and the
storage reads and writes through it: a turn that fails is rolled back with the step it took,
and an event replayed after a crash finds the step it started from. Kept in Redis, the state
was written at once, outside the transaction, and lost with a flush of Redis.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from bot.fsm import KeyLocks, StorageKey
from records.clock import Clock, SystemClock, as_utc
from records.db import Database
from records.models import WizardState

# A flow left alone this long is forgotten, as the Redis keys expired before.
DEFAULT_TTL = timedelta(days=7)
# Expired rows are read as no state at once; they are deleted now and then, not on every turn.
PURGE_EVERY = timedelta(hours=1)

_session: ContextVar[AsyncSession | None] = ContextVar("zhiban_fsm_session", default=None)


@contextmanager
def bound_to(session: AsyncSession) -> Iterator[None]:
    """Wizard state read and written meanwhile (in this task) joins `session`'s transaction."""
    token = _session.set(session)
    try:
        yield
    finally:
        _session.reset(token)


class DatabaseStorage:
    """`bot.fsm.BaseStorage` on the `fsm_states` table."""

    def __init__(self, db: Database, clock: Clock | None = None, *, ttl: timedelta = DEFAULT_TTL) -> None:
        self.db = db
        self.clock: Clock = clock or SystemClock()
        self.ttl = ttl
        self.lock = KeyLocks()
        self._next_purge: datetime | None = None

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[AsyncSession]:
        bound = _session.get()
        if bound is not None:
            yield bound
            return
        # Outside a turn (a script, a test of the framework): a transaction of its own.
        async with self.db.transaction() as session:
            yield session

    async def get(self, key: StorageKey) -> tuple[str | None, dict[str, Any]]:
        async with self._session() as session:
            row = await session.get(WizardState, key.as_str())
            if row is None or as_utc(row.expires_at) <= self.clock.now():
                return None, {}
            return row.state, dict(row.data or {})

    async def set(self, key: StorageKey, state: str | None, data: dict[str, Any]) -> None:
        now = self.clock.now()
        async with self._session() as session:
            row = await session.get(WizardState, key.as_str())
            if state is None and not data:
                if row is not None:
                    await session.delete(row)
            elif row is None:
                session.add(
                    WizardState(
                        key=key.as_str(), state=state, data=dict(data), updated_at=now, expires_at=now + self.ttl
                    )
                )
            else:
                row.state, row.data = state, dict(data)
                row.updated_at, row.expires_at = now, now + self.ttl
            await session.flush()
            await self._purge_now_and_then(session, now)

    async def _purge_now_and_then(self, session: AsyncSession, now: datetime) -> None:
        if self._next_purge is not None and now < self._next_purge:
            return
        self._next_purge = now + PURGE_EVERY
        await session.execute(delete(WizardState).where(WizardState.expires_at <= now))

    async def close(self) -> None:
        """Nothing to release: the database belongs to whoever opened it."""
