"""Push outcomes are counted per push service: an operator sees which service refuses or drops."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fake_push_service import FakePushService, Reply
from push_env import T0, make_settings, migrated, run_push_timers

from notifications.models import PushSubscription
from notifications.notice import NoticeSpec
from notifications.push_metrics import service_of
from notifications.service import notify
from records.clock import FrozenClock
from records.db import Database
from zhiban.settings import Settings


@pytest.fixture
async def fake() -> AsyncIterator[FakePushService]:
    async with FakePushService() as svc:
        yield svc


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    async with migrated(settings) as database:
        yield database


def counted(service: str, outcome: str) -> float:
    return REGISTRY.get_sample_value("zhiban_push_outcomes_total", {"service": service, "outcome": outcome}) or 0.0


@pytest.mark.parametrize(
    ("endpoint", "service"),
    [
        ("https://fcm.googleapis.com/fcm/send/abc", "fcm"),
        ("https://web.push.apple.com/QO2x", "apple"),
        ("https://updates.push.services.mozilla.com/wpush/v2/x", "mozilla"),
        ("https://wns2-par02p.notify.windows.com/w/?token=x", "windows"),
        ("http://127.0.0.1:9999/push/1", "other"),
        ("not a url", "other"),
    ],
)
def test_the_service_is_named_from_the_endpoint_host(endpoint: str, service: str) -> None:
    assert service_of(endpoint) == service


async def send_one(
    db: Database, settings: Settings, fake: FakePushService, clock: FrozenClock, *replies: Reply
) -> None:
    sub = fake.create_subscription()
    async with db.transaction() as session:
        session.add(
            PushSubscription(user_id="@p:x", endpoint=sub.endpoint, p256dh=sub.p256dh, auth=sub.auth, created_at=T0)
        )
    fake.script(sub, *replies)
    async with db.transaction() as session:
        await notify(session, ["@p:x"], NoticeSpec(kind="test", title="t"), clock=clock, settings=settings)


async def test_delivered_and_gone_pushes_are_counted_for_their_service(
    db: Database, settings: Settings, fake: FakePushService
) -> None:
    clock = FrozenClock(T0)
    delivered, gone = counted("other", "delivered"), counted("other", "gone")  # the fake listens on loopback
    await send_one(db, settings, fake, clock, Reply(201))
    await run_push_timers(db, settings, clock)
    assert counted("other", "delivered") == delivered + 1
    await send_one(db, settings, fake, clock, Reply(410))
    await run_push_timers(db, settings, clock)
    assert counted("other", "gone") == gone + 1


async def test_a_push_whose_notice_outlived_its_ttl_is_counted_expired(
    db: Database, settings: Settings, fake: FakePushService
) -> None:
    clock = FrozenClock(T0)
    expired, retrying = counted("other", "expired"), counted("other", "retrying")
    await send_one(db, settings, fake, clock, *[Reply(500)] * 10)
    await run_push_timers(db, settings, clock)
    assert counted("other", "retrying") > retrying
    clock.advance(timedelta(hours=1))  # the test kind's TTL is 10 minutes
    await run_push_timers(db, settings, clock)
    assert counted("other", "expired") == expired + 1
