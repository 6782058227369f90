"""Small named values (sync token, DM rooms, audit tail) kept in the database."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from records.clock import SystemClock
from records.models import KeyValue


async def get(session: AsyncSession, key: str) -> str | None:
    row = await session.get(KeyValue, key)
    return None if row is None else row.value


async def put(session: AsyncSession, key: str, value: str) -> None:
    row = await session.get(KeyValue, key)
    now = SystemClock().now()
    if row is None:
        session.add(KeyValue(key=key, value=value, updated_at=now))
    else:
        row.value = value
        row.updated_at = now
    await session.flush()
