"""A part of a fan-out is sent by one run: a second run of the same push.send timer (its claim
lapsed while the first was sending, as on a loaded worker) sends nobody a second message, and
what a run that died mid-send had taken is sent later, never forgotten. On SQLite and
PostgreSQL (the shared `db` fixture)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fake_push_service import FakePushService, FakeSubscription
from push_env import T0, make_settings

from notifications.delivery import SENDING_LEASE, PushRuntime, send_notice, sender_from
from notifications.models import Delivery, PushSubscription
from notifications.notice import NoticeSpec
from notifications.service import Defaults, notify
from notifications.webpush import PushItem, SendOutcome, WebPushSender
from records.clock import FrozenClock
from records.config import Settings
from records.db import Database

PEOPLE = [f"@p{i}:x" for i in range(12)]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


async def fan_out(
    db: Database, settings: Settings, fake: FakePushService, clock: FrozenClock
) -> tuple[int, list[FakeSubscription]]:
    devices = [fake.create_subscription() for _ in PEOPLE]
    async with db.transaction() as session:
        for user, device in zip(PEOPLE, devices, strict=True):
            session.add(
                PushSubscription(
                    user_id=user, endpoint=device.endpoint, p256dh=device.p256dh, auth=device.auth, created_at=T0
                )
            )
        await session.flush()
        result = await notify(
            session, PEOPLE, NoticeSpec(kind="alert", title="汛情", body="集合"), clock=clock, settings=settings
        )
    return result.notice_id, devices


def runtime(settings: Settings) -> PushRuntime:
    return PushRuntime(lambda: sender_from(settings.push), Defaults.of(settings))


async def statuses(db: Database) -> set[str]:
    async with db.reading() as session:
        return set(await session.scalars(select(Delivery.status).where(Delivery.channel == "push")))


async def test_two_runs_of_the_same_part_send_each_device_one_message(
    db: Database, settings: Settings, fake: FakePushService
) -> None:
    clock = FrozenClock(T0)
    notice_id, devices = await fan_out(db, settings, fake, clock)

    again = await asyncio.gather(
        send_notice(db, notice_id, runtime(settings), clock), send_notice(db, notice_id, runtime(settings), clock)
    )

    assert [len(fake.messages_for(device)) for device in devices] == [1] * len(PEOPLE)
    assert await statuses(db) == {"delivered"}
    # The run that found the part taken looks again later (nothing is left by then).
    assert sorted(again, key=lambda at: at is not None) == [None, T0 + SENDING_LEASE]
    clock.advance(SENDING_LEASE)
    assert await send_notice(db, notice_id, runtime(settings), clock) is None
    assert [len(fake.messages_for(device)) for device in devices] == [1] * len(PEOPLE)


class Crash(Exception):
    pass


class DiesWhileSending(WebPushSender):
    """A worker killed mid-send: what it took is neither sent nor recorded."""

    async def send_many(self, items: Iterable[PushItem]) -> list[SendOutcome]:
        raise Crash


async def test_what_a_run_that_died_had_taken_is_sent_once_its_take_lapses(
    db: Database, settings: Settings, fake: FakePushService
) -> None:
    clock = FrozenClock(T0)
    notice_id, devices = await fan_out(db, settings, fake, clock)
    push = settings.push
    dying = PushRuntime(lambda: DiesWhileSending(sender_from(push)._vapid, sender_from(push)._allowlist))
    with pytest.raises(Crash):
        await send_notice(db, notice_id, dying, clock)

    # The timer runs again when its claim lapses: the take still stands, so it sends nothing
    # yet and asks to run again when the take lapses.
    clock.advance(timedelta(seconds=10))
    assert await send_notice(db, notice_id, runtime(settings), clock) == T0 + SENDING_LEASE
    assert all(not fake.messages_for(device) for device in devices)

    clock.advance(SENDING_LEASE)
    assert await send_notice(db, notice_id, runtime(settings), clock) is None
    assert [len(fake.messages_for(device)) for device in devices] == [1] * len(PEOPLE)
    assert await statuses(db) == {"delivered"}
