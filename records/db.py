"""The database: engine, sessions, and the declarative base every table derives from.

The database is the source of truth for everything Zhiban knows. SQLite is the embedded
default; PostgreSQL is the production choice. Both are exercised by the test suite.
"""

from __future__ import annotations

import asyncio
import logging
import os
import stat
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, DateTime, MetaData, TypeDecorator, event
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import NullPool

from records.config import DatabaseSettings

log = logging.getLogger(__name__)

# The database, its WAL and shared-memory files, and the folders holding them are the office's
# records and the bot's keys: readable by their owner only.
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600

# Set while a read-only session begins, so that SQLite starts it without the write lock.
_read_only: ContextVar[bool] = ContextVar("zhiban_read_only", default=False)

# How long a writer waits for this process's other writers before trying SQLite's own lock
# anyway (which then waits its busy timeout): as long as that timeout, so a writer nested in
# another's transaction fails as it always did instead of hanging.
WRITER_WAIT_S = 30.0

# The side pool (`Database.apart`): connections kept apart from the process's pool for short
# writes that must not queue behind its jobs, the timers' heartbeat above all: the jobs may hold
# every pooled connection while a turn waits up to `database.pool_timeout_seconds` (120 s) for
# one, and a claim lapses after 8 s. Two at most, and a short wait: a beat that still finds none
# fails and the next one, a quarter of the lease later, tries again.
SIDE_POOL_SIZE = 1
SIDE_POOL_OVERFLOW = 1
SIDE_POOL_TIMEOUT_S = 1.0

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and always returns aware UTC values (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}  # noqa: RUF012


def async_url(url: str) -> str:
    """Accept plain URLs from config and pick the async driver for them."""
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url.removeprefix("sqlite:///")
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    return url


class Database:
    """One engine and a session factory; `transaction()` is the unit of work."""

    def __init__(
        self, url: str, *, echo: bool = False, pooled: bool = True, pool: DatabaseSettings | None = None
    ) -> None:
        self.url = async_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite and ":memory:" not in self.url:
            secure_sqlite_files(Path(self.url.split(":///", 1)[1].split("?", 1)[0]))
        if self.is_sqlite:
            # One writer at a time: wait for the lock rather than failing at once.
            kwargs["connect_args"] = {"timeout": 30}
        elif pooled:
            kwargs.update(_postgres_pool(pool or DatabaseSettings()))
        if not pooled:
            # Worker jobs run each in a fresh event loop; pooled asyncpg connections
            # are tied to the loop that opened them.
            kwargs["poolclass"] = NullPool
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        # Opened on first use (only the worker's heartbeats use it): other processes open nothing more.
        self._side_kwargs = _side_pool(kwargs) if not self.is_sqlite and pooled else None
        self._side_engine: AsyncEngine | None = None
        self._side: async_sessionmaker[AsyncSession] | None = None
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
            event.listen(self.engine.sync_engine, "begin", _sqlite_begin_immediate)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # SQLite has one write lock per file. Pooled connections racing for it each sleep in
        # SQLite's busy handler and retry; this process's writers queue on one asyncio lock
        # instead, so one writes while the rest wait their turn (readers stay pooled).
        self._writers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on error."""
        if not self.is_sqlite:
            async with self.sessions() as session, session.begin():
                yield session
            return
        lock = self._writer_lock()
        try:
            await asyncio.wait_for(lock.acquire(), WRITER_WAIT_S)
            held = True
        except TimeoutError:
            log.warning("a writer waited %.0f s for this process's other writers; trying anyway", WRITER_WAIT_S)
            held = False
        try:
            async with self.sessions() as session, session.begin():
                yield session
        finally:
            if held:
                lock.release()

    def _writer_lock(self) -> asyncio.Lock:
        # One lock per event loop: a lock is bound to the loop it is first awaited in.
        loop = asyncio.get_running_loop()
        lock = self._writers.get(loop)
        if lock is None:
            lock = self._writers[loop] = asyncio.Lock()
        return lock

    @asynccontextmanager
    async def apart(self) -> AsyncIterator[AsyncSession]:
        """A transaction on a connection apart from the pool, for a short write that must not
        wait behind the pool's users (see SIDE_POOL_SIZE); on SQLite, and without a pool, a
        plain `transaction()` (SQLite has one write lock, not a pool)."""
        if self._side_kwargs is None:
            async with self.transaction() as session:
                yield session
            return
        if self._side is None:
            self._side_engine = create_async_engine(self.url, **self._side_kwargs)
            self._side = async_sessionmaker(self._side_engine, expire_on_commit=False)
        async with self._side() as session, session.begin():
            yield session

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A read-only session; on SQLite it does not take the write lock."""
        token = _read_only.set(True)
        try:
            async with self.sessions() as session, session.begin():
                yield session
        finally:
            _read_only.reset(token)

    async def dispose(self) -> None:
        await self.engine.dispose()
        side, self._side_engine, self._side = self._side_engine, None, None
        if side is not None:
            await side.dispose()


def _postgres_pool(pool: DatabaseSettings) -> dict[str, Any]:
    """The engine's pool and statement cache as `database.*` asks (docs/operations.md)."""
    return {
        "pool_size": pool.pool_size,
        "max_overflow": pool.pool_max_overflow,
        "pool_timeout": pool.pool_timeout_seconds,
        "pool_recycle": pool.pool_recycle_seconds or -1,
        # SQLAlchemy prepares every statement through asyncpg and keeps it per connection
        # (an LRU of this size): a statement seen before costs one round trip, not two.
        "connect_args": {"prepared_statement_cache_size": pool.prepared_statements},
        # The reset on return stays a rollback: after a commit the driver has no transaction
        # and sends nothing (a turn measured 3.9 round trips: BEGIN, its ~1.8 statements,
        # COMMIT), and after a failure the rollback is needed.
        "pool_reset_on_return": "rollback",
    }


def _side_pool(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The main engine's options with the side pool's size and wait."""
    return {
        **kwargs,
        "pool_size": SIDE_POOL_SIZE,
        "max_overflow": SIDE_POOL_OVERFLOW,
        "pool_timeout": SIDE_POOL_TIMEOUT_S,
    }


def tighten(path: Path, mode: int, *, announce: bool = True) -> bool:
    """Take away what ``mode`` does not grant (never adds any); say so when something changed.

    ``announce=False`` is for files this process just had a library create (quietly fixed).
    """
    try:
        current = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return False
    if not current & ~mode:
        return False
    path.chmod(current & mode)
    if announce:
        log.warning("%s was open to other users (mode %03o); now %03o", path, current, current & mode)
    return True


def private_dir(path: Path) -> Path:
    """Create ``path`` for its owner only, or tighten it if it exists and others may enter."""
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    tighten(path, PRIVATE_DIR_MODE)
    return path


def secure_sqlite_files(db_file: Path) -> None:
    """Create the database file 0600 before SQLite does (SQLite gives its -wal and -shm files the
    database file's mode), and tighten an existing database and its companions."""
    if not db_file.parent.exists():
        # A fresh install has no data folder yet; SQLite creates the file but not its folder.
        db_file.parent.mkdir(parents=True, mode=PRIVATE_DIR_MODE)
    try:
        os.close(os.open(db_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE))
    except FileExistsError:
        pass
    for path in (db_file, Path(f"{db_file}-wal"), Path(f"{db_file}-shm"), Path(f"{db_file}-journal")):
        tighten(path, PRIVATE_FILE_MODE)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # pysqlite's own transaction handling is turned off so that BEGIN IMMEDIATE below
    # takes the write lock up front; two racing writers then queue instead of deadlocking.
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    # With WAL, NORMAL loses nothing when a process crashes (only on power loss, the last
    # commits) and saves an fsync per transaction.
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Deleted rows (a redacted sign-in link, a pruned message) are overwritten, not left in
    # free pages for whoever reads a copy of the file.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def _sqlite_begin_immediate(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN" if _read_only.get() else "BEGIN IMMEDIATE")
