"""A fan-out's outcomes are recorded in bulk: a 404/410 deletes that subscription and no other,
429/5xx keep theirs for the next round, and the statements written do not grow with the
number of messages (the profile showed two look-ups per message as most of the send's time)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fake_push_service import FakePushService, Reply
from push_env import T0, make_settings, migrated, run_push_timers

from notifications import service
from notifications.models import Delivery, PushSubscription
from notifications.notice import NoticeSpec
from notifications.service import SEND_KIND, notify
from records.clock import FrozenClock
from records.config import Settings
from records.db import Database
from records.models import Timer

FAN_OUT = 60
# What each scripted person's only device answers (the rest answer 201).
SCRIPT = {"@gone410:x": 410, "@gone404:x": 404, "@busy429:x": 429, "@down500:x": 500, "@down503:x": 503}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, retry_attempts=1)


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    async with migrated(settings) as database:
        yield database


@contextmanager
def writes_counted(db: Database) -> Iterator[list[str]]:
    """The INSERT/UPDATE/DELETE statements sent while the block runs (an executemany counts once)."""
    seen: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            seen.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", note)


async def test_outcomes_of_a_fan_out_are_recorded_in_bulk(
    db: Database, settings: Settings, fake: FakePushService
) -> None:
    clock = FrozenClock(T0)
    people = list(SCRIPT) + [f"@ok{i}:x" for i in range(FAN_OUT - len(SCRIPT))]
    subs: dict[str, int] = {}
    async with db.transaction() as session:
        for user in people:
            device = fake.create_subscription()
            if user in SCRIPT:
                fake.script(device, Reply(SCRIPT[user], headers={"Retry-After": "1"}))
            row = PushSubscription(
                user_id=user, endpoint=device.endpoint, p256dh=device.p256dh, auth=device.auth, created_at=T0
            )
            session.add(row)
            await session.flush()
            subs[user] = row.id
        # An older notice to the 410 person: its record stays, only the link to the device goes.
        await notify(session, ["@gone410:x"], NoticeSpec(kind="digest", title="旧", body="旧"), clock=clock)
    async with db.transaction() as session:
        await notify(
            session, people, NoticeSpec(kind="alert", title="汛情", body="集合"), clock=clock, settings=settings
        )

    with writes_counted(db) as writes:
        await run_push_timers(db, settings, clock)

    async with db.reading() as session:
        kept = {s.user_id: s for s in await session.scalars(select(PushSubscription))}
        rows = list(await session.scalars(select(Delivery).where(Delivery.channel == "push")))
    latest = {d.user_id: d for d in sorted(rows, key=lambda d: d.id)}
    assert set(kept) == set(people) - {"@gone410:x", "@gone404:x"}, "only the 404/410 devices are removed"
    assert {u: latest[u].status for u in SCRIPT} == {
        "@gone410:x": "gone",
        "@gone404:x": "gone",
        "@busy429:x": "retrying",
        "@down500:x": "retrying",
        "@down503:x": "retrying",
    }
    assert all(latest[u].subscription_id == subs[u] for u in ("@busy429:x", "@down500:x", "@down503:x"))
    delivered = [u for u in people if u not in SCRIPT]
    assert all(latest[u].status == "delivered" and latest[u].delivered_at is not None for u in delivered)
    assert all(kept[u].last_ok_at is not None for u in delivered)
    assert all(kept[u].last_ok_at is None for u in ("@busy429:x", "@down500:x", "@down503:x"))
    older = [d for d in rows if d.user_id == "@gone410:x" and d.id != latest["@gone410:x"].id]
    assert len(older) == 1 and older[0].subscription_id is None
    # Both notices' timers (the old one's and the fan-out's), 61 messages: a few statements each
    # (an executemany counts once), not a look-up and a write per message.
    assert len(writes) <= 20, f"{len(writes)} writes for {FAN_OUT} messages"


async def test_a_large_fan_out_is_sent_in_parts_each_device_once(
    db: Database, settings: Settings, fake: FakePushService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "SEND_PART", 7)
    clock = FrozenClock(T0)
    people = [f"@p{i}:x" for i in range(20)]
    devices = {user: [fake.create_subscription() for _ in range(1 + i % 3)] for i, user in enumerate(people)}
    async with db.transaction() as session:
        for user, subs in devices.items():
            for device in subs:
                session.add(
                    PushSubscription(
                        user_id=user, endpoint=device.endpoint, p256dh=device.p256dh, auth=device.auth, created_at=T0
                    )
                )
        await session.flush()
        await notify(
            session, people, NoticeSpec(kind="alert", title="汛情", body="集合"), clock=clock, settings=settings
        )

    async with db.reading() as session:
        parts = [t.payload["deliveries"] for t in await session.scalars(select(Timer).where(Timer.kind == SEND_KIND))]
    assert len(parts) > 1, "a fan-out larger than a part went to one timer"
    await run_push_timers(db, settings, clock)

    assert all(len(fake.messages_for(device)) == 1 for subs in devices.values() for device in subs)
    async with db.reading() as session:
        rows = list(await session.scalars(select(Delivery)))
    owner = {d.id: d.user_id for d in rows}
    # No person's devices straddle two parts (their DM fallback is decided in one place).
    for user in people:
        holding = {
            i for i, (first, last) in enumerate(parts) for d in rows if d.user_id == user and first <= d.id <= last
        }
        assert len(holding) == 1, f"{user}'s devices are in parts {holding}"
    assert {d.status for d in rows} == {"delivered"} and len(owner) == sum(len(s) for s in devices.values())
