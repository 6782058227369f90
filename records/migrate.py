"""Applying migrations from code (on start, and from `zhiban db upgrade`).

The bot, the push server and every worker migrate when they start, often at the same moment
against a fresh database; unguarded, all but one crashed on the version table. Each upgrade
therefore holds a lock that every other upgrade of the same database waits for: a PostgreSQL
advisory lock, or a lock file beside a SQLite database. Whoever comes second finds the schema
at head and has nothing left to do.
"""

from __future__ import annotations

import asyncio
import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from records.db import Database, async_url

MIGRATIONS = Path(__file__).parent / "migrations"
# The advisory lock's key: any fixed 64-bit number, the same in every Zhiban process.
ADVISORY_LOCK_KEY = 0x7A6869_62616E  # "zhiban"


def alembic_config(url: str, model_modules: list[str] | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.set_main_option("model_modules", " ".join(model_modules or []))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the schema to `revision`, one process at a time. Runs the async engine in a fresh event loop."""
    with migration_lock(url):
        command.upgrade(alembic_config(url), revision)


async def upgrade_async(url: str, revision: str = "head") -> None:
    # Alembic's env starts its own event loop, so it runs in a thread here.
    await asyncio.to_thread(upgrade, url, revision)


@contextmanager
def migration_lock(url: str) -> Iterator[None]:
    """Held while migrating: other upgrades of the same database wait for it."""
    plain = async_url(url)
    if plain.startswith("sqlite"):
        path = plain.split(":///", 1)[1].split("?", 1)[0] if ":///" in plain else ""
        if not path or ":memory:" in path:
            yield  # a private in-memory database has no other migrator
            return
        with _file_lock(Path(f"{path}.migrate-lock")):
            yield
        return
    with _advisory_lock(Database(url, pooled=False)):
        yield


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    # flock is released by the kernel if the process dies, so a crash never leaves it held.
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def _advisory_lock(database: Database) -> Iterator[None]:
    # A session-level lock on a connection of its own, held across Alembic's own connection;
    # PostgreSQL releases it when that connection closes, so a crash never leaves it held.
    loop = asyncio.new_event_loop()
    connection = loop.run_until_complete(database.engine.connect())
    try:
        loop.run_until_complete(connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY}))
        try:
            yield
        finally:
            loop.run_until_complete(
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY})
            )
    finally:
        loop.run_until_complete(connection.close())
        loop.run_until_complete(database.dispose())
        loop.close()
