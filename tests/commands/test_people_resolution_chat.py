"""Every feature resolves the people a command names the same way, before anything is created.

Through the real dispatcher (every router, the exactly-once middleware, the error replies) on
SQLite and PostgreSQL. The bot client is replaced by one that knows the room's members and the
homeserver's accounts, the two things the resolution asks of it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from commands.approvals.models import Approval
from commands.meetings.models import Meeting
from commands.tasks.models import Task
from emergency import incidents
from emergency.models import Order, Receipt
from emergency.policy import Policy
from records.clock import FrozenClock
from records.db import Database
from records.models import AuditEntry, OutboxMessage, Person
from tests.support.dispatch_chat import DispatchChat, PowerLevels

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
ROOM = "!office:localhost"
BOSS = "@boss:localhost"
WANG = "@wang:localhost"  # 王伟, a member of the room
LI = "@li:localhost"  # 李娜, on record but not in the room
ZHAO = "@zhao:localhost"  # an account on the homeserver, in no room with the bot
BOT = "@zhiban:localhost"


class OfficeClient(PowerLevels):
    """The bot client as the resolution sees it: the room's members and the homeserver's accounts
    (and, from PowerLevels, the homeserver calls a chat test cannot make, refused)."""

    user_id = BOT

    def __init__(self, members: dict[str, dict[str, str | None]], accounts: set[str]) -> None:
        super().__init__()
        self._members = members
        self._accounts = accounts

    def members(self, room_id: str) -> dict[str, str | None]:
        return self._members.get(room_id, {})

    async def registered(self, user_id: str) -> bool:
        return user_id in self._accounts


async def _chat(db: Database, clock: FrozenClock, **settings: Any) -> DispatchChat:
    chat = DispatchChat(db, clock, room=ROOM, **settings)
    members = {ROOM: {BOSS: "老板", WANG: "王伟", BOT: "值班助手"}}
    chat.dispatcher.context["client"] = OfficeClient(members, {BOSS, WANG, LI, ZHAO, BOT})
    async with db.transaction() as session:
        session.add(Person(user_id=LI, display_name="李娜", roles=[], created_at=clock.now()))
    return chat


async def _counts(db: Database) -> tuple[int, ...]:
    """What a refused command must leave untouched: records, audit entries, messages to others."""
    async with db.reading() as session:
        return tuple(
            [
                await session.scalar(select(func.count()).select_from(model))
                for model in (Task, Meeting, Approval, AuditEntry)
            ]
            + [
                await session.scalar(
                    select(func.count()).select_from(OutboxMessage).where(OutboxMessage.to_user.is_not(None))
                )
            ]
        )


def _refused_naming(body: str, *names: str) -> None:
    assert body.startswith("⚠️"), body
    assert "找不到用户" in body or "不止一人" in body, body
    for name in names:
        assert name in body, body


async def test_a_task_or_meeting_for_someone_who_does_not_exist_is_refused_before_it_is_made(db: Database) -> None:
    chat = await _chat(db, FrozenClock(T0))
    before = await _counts(db)

    _refused_naming(await chat.reply_to(BOSS, "!督办 排查隐患 @nobody-xyz 截止 明天"), "@nobody-xyz")
    _refused_naming(await chat.reply_to(BOSS, f"!督办 排查隐患 {WANG} @nobody-xyz 截止 明天"), "@nobody-xyz")
    _refused_naming(await chat.reply_to(BOSS, "!会议 安全例会 明天下午3点 @nobody-xyz"), "@nobody-xyz")
    _refused_naming(await chat.reply_to(BOSS, "!审批 发起 请示 @nobody-xyz"), "@nobody-xyz")
    # A display name nobody has, with the close one we know offered.
    _refused_naming(await chat.reply_to(BOSS, "!督办 排查隐患 @王为 截止 明天"), "@王为", "王伟 (@wang:localhost)")
    assert await _counts(db) == before

    english = await chat.reply_to(BOSS, "!lang en")
    assert english
    refused = await chat.reply_to(BOSS, "!task new check the valves @nobody-xyz by tomorrow")
    assert "No such user @nobody-xyz" in refused, refused


async def test_a_person_may_be_named_by_display_name_localpart_or_full_id(db: Database) -> None:
    chat = await _chat(db, FrozenClock(T0))

    # A room member by display name (Chinese names run into the next word), someone on record
    # by display name, a homeserver account by localpart.
    card = await chat.reply_to(BOSS, "!督办 排查隐患 @王伟 @李娜 @zhao 截止 明天")
    assert card.startswith("📌 督办 T"), card
    async with db.reading() as session:
        task = (await session.scalars(select(Task))).one()
    assert (task.lead, list(task.co_owners)) == (WANG, [LI, ZHAO])

    sent = await chat.say(BOSS, "!会议 安全例会 明天下午3点 @王伟 @li")
    assert any("已通知 2 人" in str(row.content.get("body")) for row in sent), [r.content for r in sent]
    async with db.reading() as session:
        meeting = (await session.scalars(select(Meeting))).one()
        invited = {
            row.to_user
            for row in await session.scalars(select(OutboxMessage).where(OutboxMessage.to_user.is_not(None)))
        }
    assert meeting.title == "安全例会"
    assert {WANG, LI} <= invited


async def test_a_name_two_people_share_is_refused_with_both(db: Database) -> None:
    chat = await _chat(db, FrozenClock(T0))
    async with db.transaction() as session:
        session.add(Person(user_id="@wang2:localhost", display_name="王伟", roles=[], created_at=T0))

    body = await chat.reply_to(BOSS, "!督办 排查隐患 @王伟 截止 明天")
    _refused_naming(body, "@王伟", WANG, "@wang2:localhost")


async def test_an_order_or_a_role_for_someone_unknown_is_refused(db: Database) -> None:
    clock = FrozenClock(T0)
    chat = await _chat(db, clock, roles={"duty_officer": [BOSS]})
    async with db.transaction() as session:
        incident = await incidents.declare(
            session, actor=BOSS, grade=2, category="自然灾害", title="城东内涝",
            people=incidents.People([], [BOSS], []), policy=Policy(), clock=clock,
        )  # fmt: skip
        await incidents.attach_room(session, incident, ROOM)
    before = await _counts(db)

    _refused_naming(await chat.reply_to(BOSS, "!指令 @nobody-xyz @王伟 立即到岗"), "@nobody-xyz")
    _refused_naming(await chat.reply_to(BOSS, "!角色 E1 指挥长 @nobody-xyz"), "@nobody-xyz")
    assert await _counts(db) == before
    async with db.reading() as session:
        assert await session.scalar(select(func.count()).select_from(Order)) == 0

    # The same order to people who exist goes out, to them.
    await chat.say(BOSS, "!指令 @王伟 @李娜 立即到岗")
    async with db.reading() as session:
        order = (await session.scalars(select(Order))).one()
        recipients = set(await session.scalars(select(Receipt.user_id).where(Receipt.order_id == order.id)))
    assert recipients == {WANG, LI}
