"""SQLite: this process's writers take turns on one lock instead of racing for the file's."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import func, select

from records import ledger
from records.db import Database
from records.migrate import upgrade
from records.models import HandledEvent


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'zhiban.db'}"
    upgrade(url)
    return url


async def test_concurrent_writers_hold_one_connection_and_all_commit(url: str) -> None:
    db = Database(url)
    checked_out: list[int] = []

    async def turn(i: int) -> None:
        async with db.transaction() as session:
            await ledger.mark_handled(session, f"$e{i}", "!room:x")
            checked_out.append(db.engine.pool.checkedout())  # type: ignore[attr-defined]
            await asyncio.sleep(0)  # the others get their chance to start meanwhile

    await asyncio.gather(*(turn(i) for i in range(50)))
    # The others waited without a connection of their own, each of which would have slept in
    # SQLite's busy handler.
    assert max(checked_out) == 1
    async with db.reading() as session:
        assert await session.scalar(select(func.count()).select_from(HandledEvent)) == 50
    await db.dispose()


async def test_a_reader_is_not_held_up_by_a_writer(url: str) -> None:
    db = Database(url)
    async with db.transaction() as session:
        await ledger.mark_handled(session, "$first", "!room:x")

        async def read() -> bool:
            async with db.reading() as other:
                return await ledger.already_handled(other, "$first")

        # The writer's row is not committed yet; the reader sees the file as it was, at once.
        assert await asyncio.wait_for(read(), 10) is False
    await db.dispose()
