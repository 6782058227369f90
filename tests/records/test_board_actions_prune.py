"""The board's idempotency keys are kept as long as a retry can come, then the daily
housekeeping removes them, as it removes old event ledger rows: a person posting actions
all day does not grow the table for ever."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from commands.general.service import PRUNE_KIND, prune_ledger
from records.clock import FrozenClock
from records.db import Database
from records.models import BoardActionKey, Timer

NOW = datetime(2026, 11, 25, tzinfo=UTC)


def _key(key: str, age: timedelta) -> BoardActionKey:
    return BoardActionKey(
        user_id="@a:x", key=key, kind="approve", ref="A1", status=200, outcome={}, created_at=NOW - age
    )


async def test_the_daily_housekeeping_removes_old_board_keys(db: Database) -> None:
    async with db.transaction() as session:
        session.add_all([_key("old-key-0001", timedelta(days=31)), _key("new-key-0001", timedelta(days=1))])
    async with db.transaction() as session:
        await prune_ledger(session, Timer(kind=PRUNE_KIND, key=PRUNE_KIND), FrozenClock(NOW))
    async with db.reading() as session:
        kept = list(await session.scalars(select(BoardActionKey.key)))
    assert kept == ["new-key-0001"]
