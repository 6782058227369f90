"""A fresh install: the data folder does not exist yet."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from records.db import Database
from records.migrate import upgrade_async


async def test_sqlite_database_in_a_missing_folder_is_created(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'not' / 'yet' / 'zhiban.db'}"
    await upgrade_async(url)
    db = Database(url)
    async with db.transaction() as session:
        assert (await session.execute(text("SELECT count(*) FROM outbox"))).scalar() == 0
    await db.dispose()
