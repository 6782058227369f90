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


async def test_a_deleted_secret_does_not_linger_in_the_sqlite_file(tmp_path: Path) -> None:
    # A copy of the file (a backup, a stolen disk) must not hold what was deleted, such as a
    # sign-in link redacted from a sent message. Some SQLite builds overwrite deleted rows by
    # default and some do not; Zhiban asks for it on every connection.
    db_file = tmp_path / "zhiban.db"
    url = f"sqlite:///{db_file}"
    await upgrade_async(url)
    db = Database(url)
    secret = "signin-token-" + "q7" * 40
    insert = text("INSERT INTO kv (key, value, updated_at) VALUES (:k, :v, '2026-12-03 00:00:00')")
    async with db.transaction() as session:
        for n in range(5):  # neighbours, so the page the secret sat on stays in use
            await session.execute(insert, {"k": f"other{n}", "v": "x" * 50})
        await session.execute(insert, {"k": "probe", "v": secret})
    async with db.transaction() as session:
        await session.execute(text("DELETE FROM kv WHERE key = 'probe'"))
    await db.dispose()  # the last connection to close moves the log into the file
    files = [p for p in tmp_path.iterdir() if p.name.startswith("zhiban.db")]  # noqa: ASYNC240 - a test's temp dir
    written = b"".join(p.read_bytes() for p in files)
    assert secret.encode() not in written
