"""What a running bot leaves for `zhiban health bot`: when it last synced, and that a standby waits.

The lease alone says that a bot process runs and renews it; it does not say that the bot still
hears its rooms. The active bot therefore records the time of its last successful sync, and a
standby (which holds no lease) records that it is alive and waiting, one row per host, so that
its container is not called unhealthy for standing by.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from records import kv
from records.db import Database
from records.models import KeyValue


@dataclass(frozen=True)
class Beat:
    """Who wrote the row (a lease holder, or a standby's pid) and when it last had news."""

    who: str
    at: datetime


def synced_key(user_id: str) -> str:
    return f"bot-synced:{user_id}"


def standby_key(user_id: str, host: str) -> str:
    return f"bot-standby:{user_id}@{host}"


async def record(db: Database, key: str, who: str, at: datetime) -> None:
    async with db.transaction() as session:
        await kv.put(session, key, json.dumps({"who": who, "at": at.astimezone(UTC).isoformat()}))


async def read(db: Database, key: str) -> Beat | None:
    async with db.reading() as session:
        value = await kv.get(session, key)
    if value is None:
        return None
    try:
        payload = json.loads(value)
        return Beat(str(payload["who"]), datetime.fromisoformat(payload["at"]))
    except (ValueError, KeyError, TypeError):
        return None  # written by another version: as if never written


async def forget(db: Database, key: str) -> None:
    async with db.transaction() as session:
        row = await session.get(KeyValue, key)
        if row is not None:
            await session.delete(row)
