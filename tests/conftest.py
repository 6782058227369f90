"""Shared fixtures: databases (SQLite and PostgreSQL), Redis, and the real Synapse homeserver."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from records.db import Database
from records.migrate import upgrade

pytest_plugins = ["tests.support.fixtures"]

PG_ADMIN_URL = os.environ.get("ZHIBAN_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
REQUIRE_POSTGRES = os.environ.get("ZHIBAN_REQUIRE_POSTGRES") == "1"


def _postgres_admin():  # type: ignore[no-untyped-def]
    """A sync admin connection through asyncpg's blocking wrapper, or None when there is no server."""
    import asyncio

    import asyncpg

    async def probe() -> bool:
        try:
            conn = await asyncpg.connect(PG_ADMIN_URL, timeout=3)
        except (OSError, asyncpg.PostgresError, TimeoutError):
            return False
        await conn.close()
        return True

    return asyncio.run(probe())


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The admin URL of a reachable PostgreSQL; a missing server skips (or fails in CI)."""
    if not _postgres_admin():
        message = f"PostgreSQL is not reachable at {PG_ADMIN_URL} (set ZHIBAN_TEST_POSTGRES)"
        if REQUIRE_POSTGRES:
            pytest.fail(message + "; CI requires it (ZHIBAN_REQUIRE_POSTGRES=1)")
        pytest.skip(message)
    return PG_ADMIN_URL


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each database test runs on SQLite and on PostgreSQL, on a freshly migrated schema."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'zhiban.db'}"
        upgrade(url)
        yield url
        return
    server_url: str = request.getfixturevalue("postgres_server")
    import asyncio

    import asyncpg

    schema_db = f"zhiban_t_{secrets.token_hex(4)}"
    admin_url = server_url

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(admin_url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{schema_db}"'))
    url = admin_url.rsplit("/", 1)[0] + f"/{schema_db}"
    upgrade(url)
    yield url
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{schema_db}" WITH (FORCE)'))


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.dispose()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Redis: an embedded redis-server of the tests' own, or the one ZHIBAN_TEST_REDIS names.

    The tests flush their database, so a Redis on localhost is never used unless named.
    """
    from tests.support.redis_server import ENV, chosen_server
    from zhiban.redis_conn import EmbeddedRedis, answers

    configured = chosen_server(os.environ)
    if configured is not None:
        if not answers(configured):
            pytest.fail(f"{ENV}={configured} does not answer; start that Redis or unset {ENV}")
        yield configured
        return
    embedded = EmbeddedRedis(tmp_path_factory.mktemp("redis"))
    url = embedded.start()
    yield url
    embedded.stop()
