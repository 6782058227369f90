"""An app under test: a migrated SQLite, a frozen clock, and an httpx client on the ASGI app."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "notifications"))
from push_env import T0  # noqa: F401 - re-exported for the tests

from records.clock import FrozenClock
from records.migrate import upgrade_async
from server.app import create_app
from zhiban.settings import Settings


@asynccontextmanager
async def running_app(settings: Settings, clock: FrozenClock) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    await upgrade_async(settings.database_url)
    app = create_app(settings, extra={"clock": clock})
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://push.test") as client:
            yield app, client
