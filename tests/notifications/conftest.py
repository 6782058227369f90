"""Fixtures shared by the push tests: the in-repo fake push service."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fake_push_service import FakePushService


@pytest.fixture
async def fake() -> AsyncIterator[FakePushService]:
    async with FakePushService() as svc:
        yield svc
