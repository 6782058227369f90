"""Fixtures shared by the push tests: the in-repo fake push service and a migrated SQLite made
from the module's own `settings` fixture."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fake_push_service import FakePushService
from push_env import migrated

from records.config import Settings
from records.db import Database


@pytest.fixture
async def fake() -> AsyncIterator[FakePushService]:
    async with FakePushService() as svc:
        yield svc


@pytest.fixture
async def push_db(settings: Settings) -> AsyncIterator[Database]:
    async with migrated(settings) as database:
        yield database
