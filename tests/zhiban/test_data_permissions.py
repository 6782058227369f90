"""The data folder and the database files are readable by their owner only."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from records.db import Database, private_dir
from zhiban.bot_runner import secure_store
from zhiban.redis_conn import EmbeddedRedis


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def usual_umask() -> object:
    old = os.umask(0o022)  # what a default login shell gives: files 0644, folders 0755
    yield
    os.umask(old)


async def test_a_fresh_sqlite_database_and_its_wal_are_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    db = Database(f"sqlite:///{data / 'zhiban.db'}")
    async with db.transaction() as session:
        await session.execute(text("CREATE TABLE t (x INTEGER)"))
        await session.execute(text("INSERT INTO t VALUES (1)"))
    wal, shm = data / "zhiban.db-wal", data / "zhiban.db-shm"
    assert wal.exists() and shm.exists()  # the connection is still open: WAL mode
    assert mode(data) == 0o700
    assert {p.name: mode(p) for p in (data / "zhiban.db", wal, shm)} == dict.fromkeys(
        ("zhiban.db", "zhiban.db-wal", "zhiban.db-shm"), 0o600
    )
    await db.dispose()


async def test_existing_loose_files_are_tightened_with_a_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    os.chmod(data, 0o755)
    for name in ("zhiban.db", "zhiban.db-wal", "zhiban.db-shm"):
        (data / name).touch()
        os.chmod(data / name, 0o644)
    with caplog.at_level(logging.WARNING):
        private_dir(data)
        db = Database(f"sqlite:///{data / 'zhiban.db'}")
    assert mode(data) == 0o700
    assert all(mode(data / n) == 0o600 for n in ("zhiban.db", "zhiban.db-wal", "zhiban.db-shm"))
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert str(data / "zhiban.db-wal") in logged and "644" in logged and str(data) in logged
    await db.dispose()


def test_the_bot_store_is_tightened(tmp_path: Path) -> None:
    store = tmp_path / "data" / "bot-store"
    store.mkdir(parents=True)
    os.chmod(store, 0o755)
    keys = store / "@zhiban:localhost_DEVICE.db"
    keys.write_bytes(b"olm")
    os.chmod(keys, 0o644)
    secure_store(store)
    assert mode(store) == 0o700 and mode(keys) == 0o600


def test_the_embedded_redis_folder_is_private(tmp_path: Path) -> None:
    EmbeddedRedis(tmp_path / "data")
    assert mode(tmp_path / "data") == 0o700
    assert mode(tmp_path / "data" / "redis") == 0o700
