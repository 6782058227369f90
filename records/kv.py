"""Small named values (sync token, DM rooms, audit tail) kept in the database."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from records import deferred
from records.clock import SystemClock
from records.models import KeyValue

# The values a transaction has read or written (None: no row), so that a policy read by every
# step of an action is one SELECT; dropped when the transaction ends.
_READ = deferred.per_transaction("zhiban.kv_read")


def _read(session: AsyncSession | Session) -> dict[str, str | None]:
    cache: dict[str, str | None] = session.info.setdefault(_READ, {})
    return cache


async def get(session: AsyncSession, key: str) -> str | None:
    cache = _read(session)
    if key not in cache:
        row = await session.get(KeyValue, key)
        cache[key] = None if row is None else row.value
    return cache[key]


def _upsert(dialect: str, key: str, value: str, now: datetime) -> Insert:
    """One statement that writes the value whether or not the key exists (no read first)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(KeyValue).values(key=key, value=value, updated_at=now)
    return statement.on_conflict_do_update(index_elements=[KeyValue.key], set_={"value": value, "updated_at": now})


def put_now(session: Session, key: str, value: str) -> None:
    """`put` for a synchronous session (a writer running inside a flush: records.deferred)."""
    now = SystemClock().now()
    session.execute(_upsert(session.get_bind().dialect.name, key, value, now))
    _read(session)[key] = value
    # A row this session already holds shows the new value, without a second write.
    held = session.identity_map.get(session.identity_key(KeyValue, key))  # type: ignore[arg-type]
    if isinstance(held, KeyValue):
        set_committed_value(held, "value", value)
        set_committed_value(held, "updated_at", now)


async def put(session: AsyncSession, key: str, value: str) -> None:
    await session.run_sync(put_now, key, value)
    await session.flush()  # as it always has: callers may count on the ids that gives new rows
