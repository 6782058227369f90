"""notify() and the send timer on both databases (SQLite and PostgreSQL, via the shared `db` fixture)."""

from __future__ import annotations

import sys
from pathlib import Path

from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fake_push_service import FakePushService, Reply
from push_env import T0, make_settings, run_push_timers

from notifications.models import Delivery, PushSubscription
from notifications.notice import NoticeSpec
from notifications.service import notify
from records.clock import FrozenClock
from records.db import Database


async def test_notify_and_send_on_each_database(db: Database, tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    clock = FrozenClock(T0)
    async with FakePushService() as fake:
        ok, dead = fake.create_subscription(), fake.create_subscription()
        fake.script(dead, Reply(410))
        async with db.transaction() as session:
            for sub in (ok, dead):
                session.add(
                    PushSubscription(
                        user_id="@a:x", endpoint=sub.endpoint, p256dh=sub.p256dh, auth=sub.auth, created_at=T0
                    )
                )
        async with db.transaction() as session:
            await notify(session, ["@a:x"], NoticeSpec(kind="alert", title="台风预警"), clock=clock, settings=settings)
        assert await run_push_timers(db, settings, clock) == ["done"]
    async with db.transaction() as session:
        statuses = sorted(d.status for d in await session.scalars(select(Delivery)))
        endpoints = [s.endpoint for s in await session.scalars(select(PushSubscription))]
    assert statuses == ["delivered", "gone"]
    assert endpoints == [ok.endpoint]
