"""A bot that dies of a fatal error lets go of its lease: its restart is not told another bot runs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from records import lease
from records.clock import FrozenClock
from records.config import DatabaseSettings, MatrixSettings, Settings
from records.db import Database
from records.models import Lease
from zhiban.bot_runner import LEASE_TTL, BotRuntime

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
NAME = "bot:@zhiban:office.example"


def _runtime(tmp_path: Path, db_url: str) -> BotRuntime:
    # No password and no token: login fails at once, after the lease was taken.
    settings = Settings(
        data_dir=tmp_path,
        database=DatabaseSettings(url=db_url),
        matrix=MatrixSettings(user_id="@zhiban:office.example"),
    )
    return BotRuntime(settings, clock=FrozenClock(T0))


async def test_a_bot_that_cannot_log_in_releases_its_lease(db: Database, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="password or an access token"):
        await _runtime(tmp_path, db.url).run()
    async with db.reading() as session:
        assert await session.get(Lease, NAME) is None
    # A restart within the lease's 30 s is not kept standing by.
    assert await lease.acquire(db, NAME, "restarted:1", LEASE_TTL, FrozenClock(T0))


def test_the_bot_without_a_password_says_so_in_one_line(database_url: str, tmp_path: Path) -> None:
    from zhiban.bot_runner import run_bot

    settings = Settings(data_dir=tmp_path, database=DatabaseSettings(url=database_url))
    with pytest.raises(SystemExit) as stopped:
        run_bot(settings)
    assert "the bot cannot log in: the bot needs a password or an access token" in str(stopped.value)
