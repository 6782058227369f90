"""Every process migrates on start: four `zhiban db upgrade` at once on a fresh database all succeed.

Unguarded, the bot, the push server and the workers raced on a fresh PostgreSQL and three of four
crashed on the version table (UniqueViolationError … alembic_version).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from records.db import Database
from records.migrate import alembic_config

MIGRATORS = 4


@pytest.fixture(name="fresh_url", params=["sqlite", "postgres"])
def fresh_url_fixture(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: nothing migrated yet."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    import asyncpg

    admin_url: str = request.getfixturevalue("postgres_server")
    name = f"zhiban_m_{secrets.token_hex(4)}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(admin_url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def versions(url: str) -> list[str]:
    db = Database(url, pooled=False)
    try:
        async with db.reading() as session:
            return list((await session.execute(text("SELECT version_num FROM alembic_version"))).scalars())
    finally:
        await db.dispose()


def test_concurrent_upgrades_all_succeed_and_reach_head_once(fresh_url: str, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "ZHIBAN_CONFIG": str(tmp_path / "absent.toml"),
        "ZHIBAN_DATA_DIR": str(tmp_path),
        "ZHIBAN_DATABASE__URL": fresh_url,
    }
    command = [sys.executable, "-c", "from zhiban.cli import app; app()", "db", "upgrade"]
    # Started together, as compose starts the bot, the server and the workers.
    processes = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(MIGRATORS)
    ]
    outcomes = [(process.wait(), *process.communicate()) for process in processes]
    for code, out, err in outcomes:
        assert code == 0, err[-2000:]
        assert "Database at head." in out
    head = ScriptDirectory.from_config(alembic_config(fresh_url)).get_current_head()
    assert asyncio.run(versions(fresh_url)) == [head]
