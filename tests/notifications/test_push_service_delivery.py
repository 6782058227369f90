"""notify() and the worker's push.send timer, against the fake push service, on migrated SQLite."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import inspect, select

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fake_push_service import FakePushService, FakeSubscription, Reply
from push_env import T0, make_settings, migrated, run_push_timers

from notifications.models import Delivery, Notice, PushSubscription
from notifications.notice import NoticeSpec, topic_header
from notifications.service import SEND_KIND, notify
from records.clock import FrozenClock
from records.config import Settings
from records.db import Database
from records.models import OutboxMessage, Person, Timer
from records.timers import run_timer
from zhiban.app import build_timers


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    async with migrated(settings) as database:
        yield database


async def add_subscription(db: Database, user: str, sub: FakeSubscription) -> int:
    async with db.transaction() as session:
        row = PushSubscription(user_id=user, endpoint=sub.endpoint, p256dh=sub.p256dh, auth=sub.auth, created_at=T0)
        session.add(row)
        await session.flush()
        return row.id


async def add_person(db: Database, user: str, **fields: object) -> None:
    async with db.transaction() as session:
        session.add(Person(user_id=user, roles=[], created_at=T0, **fields))


async def deliveries(db: Database) -> list[Delivery]:
    async with db.transaction() as session:
        return list(await session.scalars(select(Delivery).order_by(Delivery.id)))


async def test_migration_creates_push_tables(settings: Settings, db: Database) -> None:
    async with db.engine.connect() as conn:
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert {"push_subscriptions", "push_notices", "push_deliveries", "push_signin_links"} <= tables


@pytest.mark.parametrize(
    ("kind", "urgency", "ttl"),
    [
        ("emergency", "high", 6 * 3600),
        ("alert", "high", 6 * 3600),
        ("approval", "normal", 3 * 86400),
        ("order", "normal", 12 * 3600),
        ("reminder", "normal", 3600),
        ("digest", "low", 12 * 3600),
    ],
)
async def test_kind_sets_urgency_ttl_and_topic(
    db: Database, settings: Settings, fake: FakePushService, kind: str, urgency: str, ttl: int
) -> None:
    clock = FrozenClock(T0)
    sub = fake.create_subscription()
    await add_subscription(db, "@lead:x", sub)
    async with db.transaction() as session:
        result = await notify(
            session,
            ["@lead:x", "@lead:x"],
            NoticeSpec(kind=kind, title={"zh": "标题", "en": "Title"}, body="正文", topic=f"{kind}:A12"),
            clock=clock,
            settings=settings,
        )
        timer = await session.scalar(select(Timer).where(Timer.kind == SEND_KIND))
    assert result.queued == 1, "a person named twice still gets one push per device"
    assert timer is not None and timer.payload == {"notice_id": result.notice_id}

    assert await run_push_timers(db, settings, clock) == ["done"]
    [msg] = fake.messages_for(sub)
    assert msg.urgency == urgency
    assert int(msg.ttl or 0) == ttl
    assert msg.topic == topic_header(f"{kind}:A12")
    payload = json.loads(msg.plaintext or b"")
    assert payload["title"] == "标题" and payload["body"] == "正文" and payload["kind"] == kind
    [row] = await deliveries(db)
    assert (row.status, row.status_code, row.attempts) == ("delivered", 201, 1)


async def test_reader_language_and_sensitive_payload(db: Database, settings: Settings, fake: FakePushService) -> None:
    clock = FrozenClock(T0)
    sub_en, sub_zh = fake.create_subscription(), fake.create_subscription()
    await add_person(db, "@en:x", lang="en")
    await add_subscription(db, "@en:x", sub_en)
    await add_subscription(db, "@zh:x", sub_zh)
    async with db.transaction() as session:
        await notify(
            session,
            ["@en:x", "@zh:x"],
            NoticeSpec(kind="approval", title={"zh": "请审批", "en": "Please approve"}, body="A12"),
            clock=clock,
            settings=settings,
        )
        await notify(
            session,
            ["@en:x"],
            NoticeSpec(kind="approval", title="人事任免 机密", body="关于张三的任免", url="/a/13", sensitive=True),
            clock=clock,
            settings=settings,
        )
    await run_push_timers(db, settings, clock)
    first_en, secret = (json.loads(m.plaintext or b"") for m in fake.messages_for(sub_en))
    assert first_en["title"] == "Please approve"
    assert json.loads(fake.messages_for(sub_zh)[0].plaintext or b"")["title"] == "请审批"
    decrypted = json.dumps(secret, ensure_ascii=False)
    assert "机密" not in decrypted and "张三" not in decrypted and "/a/13" not in decrypted
    assert secret["title"] == "You have a new item"


async def test_quiet_hours_skip_push_but_not_emergency(db: Database, settings: Settings, fake: FakePushService) -> None:
    # 23:30 in Shanghai; the person's quiet hours are 22:00-07:00 there.
    clock = FrozenClock(T0.replace(hour=15, minute=30))
    sub = fake.create_subscription()
    await add_person(db, "@sleepy:x", quiet_hours="22:00-07:00")
    await add_subscription(db, "@sleepy:x", sub)
    async with db.transaction() as session:
        quiet = await notify(session, ["@sleepy:x"], NoticeSpec(kind="reminder", title="开会"), clock=clock)
        urgent = await notify(session, ["@sleepy:x"], NoticeSpec(kind="emergency", title="火情"), clock=clock)
        dms = list(await session.scalars(select(OutboxMessage)))
    assert (quiet.queued, quiet.skipped_quiet) == (0, 1)
    assert (urgent.queued, urgent.skipped_quiet) == (1, 0)
    assert dms == [], "a person with a device gets no DM under dm=auto"
    await run_push_timers(db, settings, clock)
    assert [json.loads(m.plaintext or b"")["title"] for m in fake.messages_for(sub)] == ["火情"]
    assert [d.status for d in await deliveries(db)] == ["skipped_quiet", "delivered"]

    # In the morning the same reminder is pushed.
    clock.set(T0)
    async with db.transaction() as session:
        later = await notify(session, ["@sleepy:x"], NoticeSpec(kind="reminder", title="开会"), clock=clock)
    assert later.queued == 1


async def test_dm_fallback_without_subscription(db: Database, settings: Settings) -> None:
    clock = FrozenClock(T0)
    async with db.transaction() as session:
        result = await notify(
            session,
            ["@nophone:x"],
            NoticeSpec(kind="order", title="立即到岗", body="E5 指令", url="/o/9"),
            clock=clock,
            settings=settings,
        )
        [dm] = list(await session.scalars(select(OutboxMessage)))
        timers = list(await session.scalars(select(Timer)))
    assert result.dm_to == ["@nophone:x"] and result.queued == 0
    assert dm.to_user == "@nophone:x" and dm.room_id is None
    assert "立即到岗" in dm.content["body"] and "http://push.test/o/9" in dm.content["body"]
    assert timers == [], "nothing to push, so no send timer"
    assert [(d.channel, d.status) for d in await deliveries(db)] == [("dm", "dm")]


async def test_nothing_leaves_when_the_flow_rolls_back(db: Database, settings: Settings) -> None:
    clock = FrozenClock(T0)
    with pytest.raises(RuntimeError):
        async with db.transaction() as session:
            await notify(session, ["@a:x"], NoticeSpec(kind="alert", title="x"), clock=clock)
            raise RuntimeError("the flow failed")
    async with db.transaction() as session:
        assert list(await session.scalars(select(Notice))) == []
        assert list(await session.scalars(select(OutboxMessage))) == []


@pytest.mark.parametrize(
    ("replies", "status", "code", "deleted"),
    [
        ([Reply(404)], "gone", 404, True),
        ([Reply(410)], "gone", 410, True),
        ([Reply(413)], "too_large", 413, False),
        ([Reply(400)], "rejected", 400, False),
        ([Reply(500), Reply(201)], "delivered", 201, False),
        ([Reply(429, headers={"Retry-After": "0"}), Reply(201)], "delivered", 201, False),
    ],
)
async def test_push_service_answers(
    db: Database,
    settings: Settings,
    fake: FakePushService,
    replies: list[Reply],
    status: str,
    code: int,
    deleted: bool,
) -> None:
    clock = FrozenClock(T0)
    sub = fake.create_subscription()
    sub_id = await add_subscription(db, "@p:x", sub)
    fake.script(sub, *replies)
    async with db.transaction() as session:
        await notify(session, ["@p:x"], NoticeSpec(kind="approval", title="t"), clock=clock, settings=settings)
    await run_push_timers(db, settings, clock)
    [row] = [d for d in await deliveries(db) if d.channel == "push"]
    assert (row.status, row.status_code, row.attempts) == (status, code, len(replies))
    async with db.transaction() as session:
        still_there = await session.get(PushSubscription, sub_id)
        dms = list(await session.scalars(select(OutboxMessage)))
    assert (still_there is None) == deleted, "only 404/410 delete the subscription"
    if deleted:
        assert row.subscription_id is None
    # Under dm=auto a person whose only device cannot be reached is told in chat instead.
    assert len(dms) == (0 if status == "delivered" else 1)


async def test_retryable_failures_go_back_to_the_timer_within_ttl(
    db: Database, settings: Settings, fake: FakePushService
) -> None:
    clock = FrozenClock(T0)
    sub = fake.create_subscription()
    await add_subscription(db, "@p:x", sub)
    # Two 500s use up the in-process attempts (2); a long Retry-After is left to the timer.
    fake.script(sub, Reply(500), Reply(503), Reply(429, headers={"Retry-After": "120"}))
    async with db.transaction() as session:
        await notify(session, ["@p:x"], NoticeSpec(kind="reminder", title="t"), clock=clock, settings=settings)
    assert await run_push_timers(db, settings, clock) == ["done"]
    [row] = await deliveries(db)
    assert row.status == "retrying" and row.status_code == 503
    async with db.transaction() as session:
        timer = await session.scalar(select(Timer).where(Timer.kind == SEND_KIND))
    assert timer is not None and timer.status == "pending" and timer.due_at == T0 + timedelta(seconds=30)

    clock.advance(timedelta(seconds=30))
    await run_push_timers(db, settings, clock)
    [row] = await deliveries(db)
    assert row.status == "retrying" and row.status_code == 429
    async with db.transaction() as session:
        timer = await session.scalar(select(Timer).where(Timer.kind == SEND_KIND))
    assert timer is not None and timer.due_at == clock.now() + timedelta(seconds=120), "Retry-After is honoured"

    clock.advance(timedelta(seconds=120))
    await run_push_timers(db, settings, clock)
    [row] = await deliveries(db)
    assert row.status == "delivered" and row.attempts == 4
    assert len(fake.messages_for(sub)) == 1


async def test_retries_stop_at_the_ttl(db: Database, settings: Settings, fake: FakePushService) -> None:
    clock = FrozenClock(T0)
    sub = fake.create_subscription()
    await add_subscription(db, "@p:x", sub)
    fake.script(sub, *[Reply(500)] * 50)
    async with db.transaction() as session:
        await notify(session, ["@p:x"], NoticeSpec(kind="test", title="t"), clock=clock, settings=settings)
    for _ in range(10):
        await run_push_timers(db, settings, clock)
        clock.advance(timedelta(minutes=2))
    [push] = [d for d in await deliveries(db) if d.channel == "push"]
    assert push.status == "failed", "the test kind's TTL is 10 minutes"
    assert len(fake.attempts_for(sub)) < 50
    async with db.transaction() as session:
        assert await session.get(PushSubscription, push.subscription_id) is not None


def pushes_counted(outcome: str) -> float:
    """Pushes counted for the fake service (on loopback, so the "other" service)."""
    labels = {"service": "other", "outcome": outcome}
    return REGISTRY.get_sample_value("zhiban_push_outcomes_total", labels) or 0.0


async def test_delivered_and_gone_pushes_are_counted_per_service(
    db: Database, settings: Settings, fake: FakePushService
) -> None:
    clock = FrozenClock(T0)
    delivered, gone = pushes_counted("delivered"), pushes_counted("gone")
    for user, reply in (("@p:x", Reply(201)), ("@q:x", Reply(410))):
        sub = fake.create_subscription()
        await add_subscription(db, user, sub)
        fake.script(sub, reply)
        async with db.transaction() as session:
            await notify(session, [user], NoticeSpec(kind="test", title="t"), clock=clock, settings=settings)
        await run_push_timers(db, settings, clock)
    assert (pushes_counted("delivered"), pushes_counted("gone")) == (delivered + 1, gone + 1)


async def test_a_push_that_outlived_its_notice_is_counted_expired(
    db: Database, settings: Settings, fake: FakePushService
) -> None:
    clock = FrozenClock(T0)
    expired, retrying = pushes_counted("expired"), pushes_counted("retrying")
    sub = fake.create_subscription()
    await add_subscription(db, "@p:x", sub)
    fake.script(sub, *[Reply(500)] * 10)
    async with db.transaction() as session:
        await notify(session, ["@p:x"], NoticeSpec(kind="test", title="t"), clock=clock, settings=settings)
    await run_push_timers(db, settings, clock)
    assert pushes_counted("retrying") > retrying
    clock.advance(timedelta(hours=1))  # the test kind's TTL is 10 minutes
    await run_push_timers(db, settings, clock)
    assert pushes_counted("expired") == expired + 1


async def test_the_workers_push_timer_uses_the_settings_it_was_given(
    db: Database, settings: Settings, fake: FakePushService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker started with `--config` sends with that config, not with a file it finds on its
    own: here the environment names a config with no push keys; only the given settings have them."""
    monkeypatch.setenv("ZHIBAN_CONFIG", str(tmp_path / "elsewhere.toml"))
    clock = FrozenClock(T0)
    sub = fake.create_subscription()
    await add_subscription(db, "@lead:x", sub)
    async with db.transaction() as session:
        await notify(
            session,
            ["@lead:x"],
            NoticeSpec(kind="message", title={"zh": "标题", "en": "Title"}, body="正文", topic="message:A1"),
            clock=clock,
            settings=settings,
        )
        timer = await session.scalar(select(Timer).where(Timer.kind == SEND_KIND))
    assert timer is not None
    assert await run_timer(db, timer.id, build_timers(settings), clock) == "done"
    assert len(fake.messages_for(sub)) == 1
