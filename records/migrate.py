"""Applying migrations from code (on start, and from `zhiban db upgrade`)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str, model_modules: list[str] | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.set_main_option("model_modules", " ".join(model_modules or []))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the schema to `revision`. Runs the async engine in a fresh event loop."""
    command.upgrade(alembic_config(url), revision)


async def upgrade_async(url: str, revision: str = "head") -> None:
    # Alembic's env starts its own event loop, so it runs in a thread here.
    await asyncio.to_thread(upgrade, url, revision)
