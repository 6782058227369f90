"""Wizard (FSM) state in the database, written in the transaction of the turn that moves it.

The exactly-once middleware binds its session for the length of a turn (`bound_to`), and the
storage reads and writes through it: a turn that fails is rolled back with the step it took,
and an event replayed after a crash finds the step it started from. Kept in Redis, the state
was written at once, outside the transaction, and lost with a flush of Redis.

What a committed turn read or wrote is kept in memory for a short while, so that the next
event of the same person does not read the table again; the database stays the truth: a
value enters the cache only once its transaction has committed, and a rolled-back turn leaves
the cache as it was. Only the bot holding the lease handles events (zhiban.bot_runner), and it
builds its storage each time it takes the lease, so no other process writes the table while
the cache is trusted; storages of one process on one database share their cache, and a new
storage empties it: between two holdings of the lease another instance may have moved any
wizard on.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from bot.fsm import KeyLocks, StorageKey
from records.clock import Clock, SystemClock, as_utc
from records.db import Database
from records.models import WizardState

# A flow left alone this long is forgotten, as the Redis keys expired before.
DEFAULT_TTL = timedelta(days=7)
# Expired rows are read as no state at once; they are deleted now and then, not on every turn.
PURGE_EVERY = timedelta(hours=1)

# How long a committed value is trusted without reading the table: a burst of one person's
# events hits it, and a change made by hand in the database is seen after this long at most.
CACHE_SECONDS = 60.0
CACHE_SIZE = 10_000

_session: ContextVar[AsyncSession | None] = ContextVar("zhiban_fsm_session", default=None)

# A key's value as known in a transaction: (state, data, expires_at), None for no state.
Known = tuple[str | None, dict[str, Any], datetime] | None
# Where a session keeps what its transaction read and wrote, until it commits.
_PENDING = "zhiban.fsm_pending"
# key -> (monotonic deadline, committed value), one table per database.
Cache = dict[str, tuple[float, Known]]
_caches: weakref.WeakKeyDictionary[Database, Cache] = weakref.WeakKeyDictionary()


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
        # A new storage is a new holding of the lease (or a script): what this process knew
        # before may have been changed by the instance that held the lease meanwhile.
        self._cache = _caches.setdefault(db, {})
        self._cache.clear()

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
        name = key.as_str()
        async with self._session() as session:
            pending = self._pending(session)
            if name in pending:
                known = pending[name]
            else:
                cached = self._cache.get(name)
                if cached is not None and cached[0] > time.monotonic():
                    known = cached[1]
                else:
                    row = await session.get(WizardState, name)
                    known = None if row is None else (row.state, dict(row.data or {}), as_utc(row.expires_at))
                    pending[name] = known
        if known is None or known[2] <= self.clock.now():
            return None, {}
        return known[0], dict(known[1])

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
            self._pending(session)[key.as_str()] = (
                None if state is None and not data else (state, dict(data), now + self.ttl)
            )
            await self._purge_now_and_then(session, now)

    def _pending(self, session: AsyncSession) -> dict[str, Known]:
        """What this session's transaction read and wrote; cached once it commits."""
        pending: dict[str, Known] | None = session.info.get(_PENDING)
        if pending is None:
            pending = session.info[_PENDING] = {}
            sync = session.sync_session

            def committed(_session: Session) -> None:
                deadline = time.monotonic() + CACHE_SECONDS
                if len(self._cache) + len(pending) > CACHE_SIZE:
                    self._cache.clear()
                for name, known in pending.items():
                    self._cache[name] = (deadline, known)
                pending.clear()

            def rolled_back(_session: Session, _previous: object) -> None:
                # Whatever it read or wrote may be undone (a savepoint rolls back part of a
                # turn): those keys are read from the table again, in this transaction too.
                for name in pending:
                    self._cache.pop(name, None)
                pending.clear()

            event.listen(sync, "after_commit", committed)
            event.listen(sync, "after_soft_rollback", rolled_back)
        return pending

    async def _purge_now_and_then(self, session: AsyncSession, now: datetime) -> None:
        if self._next_purge is not None and now < self._next_purge:
            return
        self._next_purge = now + PURGE_EVERY
        await session.execute(delete(WizardState).where(WizardState.expires_at <= now))

    async def close(self) -> None:
        """Nothing to release: the database belongs to whoever opened it."""
