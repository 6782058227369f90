"""Helpers shared by the push feature's tests: settings, a migrated SQLite, the timer runner."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# The fake push service lives next to this file.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import select

from notifications.delivery import PushRuntime, make_send_handler, sender_from
from notifications.service import SEND_KIND, Defaults
from notifications.webpush import generate_vapid_keys
from records.clock import FrozenClock
from records.config import Settings
from records.db import Database
from records.migrate import upgrade_async
from records.models import Timer
from records.timers import TimerRegistry, run_timer

# A Monday, 10:00 in Shanghai.
T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
PUBLIC_URL = "http://push.test"


def make_settings(tmp_path: Path, **push: Any) -> Settings:
    private, public = generate_vapid_keys()
    return Settings(
        data_dir=tmp_path,
        database={"url": f"sqlite:///{tmp_path / 'zhiban.db'}"},
        server={"public_url": PUBLIC_URL, "secret_key": "test-secret-" + "x" * 20},
        push={
            "vapid_private_key": private,
            "vapid_public_key": public,
            "vapid_subject": "mailto:ops@zhiban.test",
            "allowed_hosts": ["push.example.org"],
            "allow_insecure_loopback": True,
            # Retries in process are short here; the durable timer round is what tests look at.
            "retry_attempts": 2,
            "retry_max_delay_seconds": 0.05,
            **push,
        },
    )


@asynccontextmanager
async def migrated(settings: Settings) -> AsyncIterator[Database]:
    await upgrade_async(settings.database_url)
    db = Database(settings.database_url)
    try:
        yield db
    finally:
        await db.dispose()


def registry_for(settings: Settings) -> TimerRegistry:
    registry = TimerRegistry()
    runtime = PushRuntime(lambda: sender_from(settings.push), Defaults.of(settings))
    registry.register_io(SEND_KIND)(make_send_handler(lambda: runtime))
    return registry


async def run_push_timers(db: Database, settings: Settings, clock: FrozenClock) -> list[str]:
    """Run every due push.send timer once through the real `run_timer` (as the worker would)."""
    registry = registry_for(settings)
    async with db.transaction() as session:
        ids = list(
            await session.scalars(
                select(Timer.id).where(Timer.kind == SEND_KIND, Timer.status == "pending", Timer.due_at <= clock.now())
            )
        )
    return [await run_timer(db, timer_id, registry, clock) for timer_id in ids]
