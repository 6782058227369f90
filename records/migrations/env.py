"""Alembic environment: runs migrations over an async engine."""

from __future__ import annotations

import asyncio
import importlib
from typing import Any, Literal

from alembic import context
from sqlalchemy.engine import Connection

from records.db import Base, Database, UTCDateTime

config = context.config
# Other packages' tables are registered by importing their model modules; the list comes from
# the caller so that this package does not import anything of the rest of Zhiban.
for module in (config.get_main_option("model_modules") or "").split():
    importlib.import_module(module)
target_metadata = Base.metadata


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    # Migrations spell plain SQL types, so that they do not depend on today's Python classes.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    db = Database(config.get_main_option("sqlalchemy.url") or "", pooled=False)
    async with db.engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await db.dispose()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_async())
