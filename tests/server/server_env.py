"""An app under test: a migrated SQLite, a frozen clock, and an httpx client on the ASGI app.

The server tests share its fixtures by importing them (`from server_env import server_fixture`):
`clock`, `settings`, `server` (the running app and its client) and `fake` (a push service).
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "notifications"))
from fake_push_service import FakePushService
from push_env import T0, make_settings

from notifications import signin
from records.clock import FrozenClock
from records.config import Settings
from records.migrate import upgrade_async
from server.app import create_app


@asynccontextmanager
async def running_app(settings: Settings, clock: FrozenClock) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    await upgrade_async(settings.database_url)
    app = create_app(settings, extra={"clock": clock})
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://push.test") as client:
            yield app, client


USER = "@chu:office.test"


@pytest.fixture(name="clock")
def clock_fixture() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture(name="settings")
def settings_fixture(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture(name="server")
async def server_fixture(settings: Settings, clock: FrozenClock) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    async with running_app(settings, clock) as pair:
        yield pair


@pytest.fixture(name="fake")
async def fake_fixture() -> AsyncIterator[FakePushService]:
    async with FakePushService() as svc:
        yield svc


async def make_link(app: FastAPI, clock: FrozenClock, user: str = USER, minutes: int = 15) -> str:
    """The token of a sign-in link for `user`."""
    async with app.state.db.transaction() as session:
        return await signin.create_link(session, user, minutes=minutes, clock=clock)
