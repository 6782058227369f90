"""The migrations build exactly the tables the models describe, and can be undone."""

from __future__ import annotations

import importlib

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from records.db import Base, Database
from records.migrate import alembic_config
from zhiban.app import model_modules


async def test_models_and_migrations_agree(database_url: str) -> None:
    for module in model_modules():
        importlib.import_module(module)
    db = Database(database_url)

    def diff(connection):  # type: ignore[no-untyped-def]
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        return compare_metadata(context, Base.metadata)

    async with db.engine.connect() as connection:
        differences = await connection.run_sync(diff)
    await db.dispose()
    assert differences == [], differences


def test_downgrade_to_nothing_and_back(database_url: str) -> None:
    config = alembic_config(database_url)
    command.downgrade(config, "base")
    command.upgrade(config, "head")
