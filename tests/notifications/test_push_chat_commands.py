"""`!push`, `!push test` and `!quiet` through the dispatcher with the exactly-once middleware."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent))
from push_env import PUBLIC_URL, T0, make_settings, migrated

from bot import Catalog, Dispatcher, Message
from bot.help import help_router
from commands.push.feature import FEATURE
from notifications import sessions, signin
from notifications.models import Delivery, PushSubscription, SignInLink
from records import outbox
from records.clock import FrozenClock
from records.config import Settings
from records.db import Database
from records.models import AuditEntry, OutboxMessage, Person, Timer
from records.people import RoleBook
from tests.support.dispatch_chat import PowerLevels
from zhiban.middlewares import ExactlyOnce, build_turn
from zhiban.relay import OutboxRelay

USER = "@chu:office.test"
ADMIN = "@admin:office.test"
_n = iter(range(1, 10_000))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    async with migrated(settings) as database:
        yield database


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
def dispatcher(settings: Settings, db: Database, clock: FrozenClock) -> Dispatcher:
    catalog = Catalog(default_lang="zh")
    catalog.add(FEATURE.texts)
    dp = Dispatcher(
        catalog=catalog,
        settings=settings,
        db=db,
        roles=RoleBook({"admin": [ADMIN]}),
        clock=clock,
        client=PowerLevels(),
        report_errors=False,
    )
    dp.outer_middleware(ExactlyOnce(db))
    dp.turn_builder(build_turn)
    dp.include_router(help_router())
    dp.include_router(FEATURE.router())
    return dp


async def say(
    dp: Dispatcher, body: str, *, room: str = "!group:office.test", is_dm: bool = False, sender: str = USER
) -> None:
    n = next(_n)
    msg = Message(room_id=room, event_id=f"$e{n}", sender=sender, timestamp_ms=0, source={}, body=body, is_dm=is_dm)
    await dp.feed(msg)


async def outbox_rows(db: Database) -> list[OutboxMessage]:
    async with db.transaction() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_push_sends_a_one_time_link_by_dm(dispatcher: Dispatcher, db: Database, clock: FrozenClock) -> None:
    await say(dispatcher, "!push")
    link_dm, room_reply = await outbox_rows(db)
    assert link_dm.to_user == USER and link_dm.room_id is None, "the link never goes to a group room"
    body: str = outbox.sendable(link_dm.content)["body"]  # as the relay sends it
    assert f"{PUBLIC_URL}/push/signin/" in body and "15 分钟" in body
    assert room_reply.room_id == "!group:office.test" and "私信" in room_reply.content["body"]
    token = body.split("/push/signin/")[1].split()[0]
    async with db.transaction() as session:
        assert await signin.redeem(session, token, clock=clock) == USER


async def test_push_in_dm_answers_once(dispatcher: Dispatcher, db: Database) -> None:
    await say(dispatcher, "!推送", room="!dm:office.test", is_dm=True)
    [row] = await outbox_rows(db)
    assert "/push/signin/" in outbox.sendable(row.content)["body"]


async def test_push_test_without_device_and_with_one(dispatcher: Dispatcher, db: Database) -> None:
    await say(dispatcher, "!push test")
    [reply] = await outbox_rows(db)
    assert "没有发出" in reply.content["body"] and "还没有开通推送" in reply.content["body"]
    assert "发送 !推送 获取登录链接" in reply.content["body"] and "!push" not in reply.content["body"]
    async with db.transaction() as session:
        session.add(
            PushSubscription(user_id=USER, endpoint="https://push.example.org/1", p256dh="k", auth="a", created_at=T0)
        )
    await say(dispatcher, "!push test")
    reply = (await outbox_rows(db))[-1]
    assert "1 台设备" in reply.content["body"]
    async with db.transaction() as session:
        [delivery] = list(await session.scalars(select(Delivery)))
        [timer] = list(await session.scalars(select(Timer)))
    assert delivery.status == "queued" and timer.kind == "push.send"


@pytest.mark.parametrize(
    ("command", "stored", "needle"),
    [
        ("!quiet 22:00-07:00", "22:00-07:00", "22:00-07:00"),
        ("!免打扰 23点至6点", "23:00-06:00", "23:00-06:00"),
        ("!quiet 22-7", "22:00-07:00", "Asia/Shanghai"),
    ],
)
async def test_quiet_sets_hours(dispatcher: Dispatcher, db: Database, command: str, stored: str, needle: str) -> None:
    await say(dispatcher, command)
    async with db.transaction() as session:
        person = await session.get(Person, USER)
    assert person is not None and person.quiet_hours == stored
    assert needle in (await outbox_rows(db))[-1].content["body"]
    await say(dispatcher, "!quiet off")
    async with db.transaction() as session:
        person = await session.get(Person, USER)
    assert person is not None and person.quiet_hours is None


async def test_quiet_refuses_nonsense_with_usage(dispatcher: Dispatcher, db: Database) -> None:
    await say(dispatcher, "!quiet 25:00-99")
    reply: dict[str, Any] = (await outbox_rows(db))[-1].content
    assert "看不懂" in reply["body"] and "!免打扰" in reply["body"]
    async with db.transaction() as session:
        person = await session.get(Person, USER)
    assert person is None or person.quiet_hours is None


class RecordingClient:
    """Just enough of BotClient for the relay: what would reach the homeserver."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def dm_owners(self) -> dict[str, str]:
        return {}

    async def dm_room(self, user_id: str) -> str:
        return "!dm:office.test"

    async def send_event(self, room_id: str, event_type: str, content: dict[str, Any], *, txn_id: str) -> str:
        self.sent.append(content)
        return f"$sent{len(self.sent)}"


async def stored_text(db: Database) -> str:
    """Everything the outbox and the sign-in link table hold, as one string to search."""
    async with db.transaction() as session:
        rows = [json.dumps(row.content, ensure_ascii=False) for row in await session.scalars(select(OutboxMessage))]
        rows += [f"{link.token_hash} {link.user_id}" for link in await session.scalars(select(SignInLink))]
    return "\n".join(rows)


async def test_the_sign_in_link_is_delivered_but_not_kept(
    dispatcher: Dispatcher, db: Database, clock: FrozenClock
) -> None:
    await say(dispatcher, "!push", room="!dm:office.test", is_dm=True)
    client = RecordingClient()
    await OutboxRelay(db, client).relay_once()  # type: ignore[arg-type]
    # The bot's first DM to this person: its introduction (notifications.welcome) comes first.
    intro, sent = client.sent
    assert intro["body"].startswith("您好，我是值班助手")
    assert f"{PUBLIC_URL}/push/signin/" in sent["body"], "the person receives the real link"
    assert outbox.SECRETS_KEY not in sent
    token = sent["body"].split("/push/signin/")[1].split()[0]
    # Someone who reads the database afterwards finds nothing that signs anyone in.
    assert token not in await stored_text(db)
    async with db.transaction() as session:
        assert await signin.redeem(session, token, clock=clock) == USER


async def _signed_in_browsers(db: Database, clock: FrozenClock, user: str, count: int) -> list[str]:
    async with db.transaction() as session:
        secrets = [await sessions.start(session, user, days=30, clock=clock) for _ in range(count)]
        session.add(
            PushSubscription(user_id=user, endpoint="https://push.example.org/9", p256dh="k", auth="a", created_at=T0)
        )
    return secrets


async def _live(db: Database, clock: FrozenClock, secrets: list[str]) -> list[str | None]:
    async with db.transaction() as session:
        return [await sessions.find(session, secret, clock=clock) for secret in secrets]


async def test_sign_out_everywhere_from_chat(dispatcher: Dispatcher, db: Database, clock: FrozenClock) -> None:
    browsers = await _signed_in_browsers(db, clock, USER, 2)
    assert await _live(db, clock, browsers) == [USER, USER]
    await say(dispatcher, "!推送 退出全部")
    assert await _live(db, clock, browsers) == [None, None]
    reply = (await outbox_rows(db))[-1].content["body"]
    assert "已在所有浏览器上退出" in reply and "2 个登录" in reply and "1 台设备" in reply
    async with db.transaction() as session:
        assert not list(await session.scalars(select(PushSubscription)))
        [entry] = [a for a in await session.scalars(select(AuditEntry)) if a.action == "push.signout_all"]
    assert entry.actor == USER


async def test_an_admin_revokes_someones_sessions(dispatcher: Dispatcher, db: Database, clock: FrozenClock) -> None:
    browsers = await _signed_in_browsers(db, clock, USER, 1)
    await say(dispatcher, f"!push revoke {ADMIN}", sender="@other:office.test")
    refusal = (await outbox_rows(db))[-1].content["body"]
    assert "只有管理员" in refusal
    assert "用法" not in refusal, "a refusal is not a syntax mistake: no usage block inviting a retry"
    assert await _live(db, clock, browsers) == [USER], "a non-admin cannot revoke"
    await say(dispatcher, "!push revoke", sender=ADMIN)
    assert "请指明一个人" in (await outbox_rows(db))[-1].content["body"]
    await say(dispatcher, f"!推送 撤销 {USER}", sender=ADMIN)
    assert await _live(db, clock, browsers) == [None]
    assert USER in (await outbox_rows(db))[-1].content["body"]
    async with db.transaction() as session:
        [entry] = [a for a in await session.scalars(select(AuditEntry)) if a.action == "push.revoke"]
    assert (entry.actor, entry.subject) == (ADMIN, USER)


async def test_counts_read_right_in_english_for_one_device(dispatcher: Dispatcher, db: Database) -> None:
    async with db.transaction() as session:
        session.add(Person(user_id=USER, lang="en", created_at=T0))
        session.add(
            PushSubscription(user_id=USER, endpoint="https://push.example.org/en", p256dh="k", auth="a", created_at=T0)
        )
    await say(dispatcher, "!push test")
    body = (await outbox_rows(db))[-1].content["body"]
    assert body == "Test push sent to your devices (1).", "no 'device(s)' for one device"
