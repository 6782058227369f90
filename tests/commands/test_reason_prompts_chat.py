"""A question that waits for someone's reason takes only their answer to it.

In a group, the next thing a person writes after ❌ is often about something else: only a reply
to the question is the reason, and anything else is left alone (a command still runs). In a DM
with the bot, the next message is the answer. Through the real dispatcher, SQLite and PostgreSQL.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from sqlalchemy import select

from bot.types import Message
from commands.approvals.models import Approval
from commands.meetings.models import Attendee
from records.clock import FrozenClock
from records.db import Database
from records.models import OutboxMessage
from tests.support.dispatch_chat import DispatchChat

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
ROOM = "!office:localhost"
DM = "!dm-wang:localhost"
BOSS = "@boss:localhost"
WANG = "@wang:localhost"
_ids = itertools.count()


async def _write(
    chat: DispatchChat, sender: str, body: str, *, room: str = ROOM, reply_to: str | None = None, dm: bool = False
) -> list[OutboxMessage]:
    """A message as a client sends it, possibly a Matrix reply to one of the bot's messages."""
    n = next(_ids)
    message = Message(
        room_id=room,
        event_id=f"$prompt-test{n}",
        sender=sender,
        timestamp_ms=10_000 + n,
        source={},
        body=body,
        reply_to=reply_to,
        is_dm=dm,
    )
    return await chat._feed(message)


def _only(rows: list[OutboxMessage], room: str = ROOM) -> OutboxMessage:
    answers = [r for r in rows if r.room_id == room and r.relation != "m.replace"]
    assert len(answers) == 1, [r.content.get("body") for r in answers]
    return answers[0]


async def _approval_status(db: Database) -> tuple[str, ...]:
    async with db.reading() as session:
        return tuple(await session.scalars(select(Approval.status).order_by(Approval.id)))


async def test_a_reject_reason_in_a_group_is_only_a_reply_to_the_question(db: Database) -> None:
    chat = DispatchChat(db, FrozenClock(T0), room=ROOM)
    card = _only(await chat.say(BOSS, f"!审批 发起 关于防汛物资采购的请示 {WANG}"))
    question = _only(await chat.react(WANG, str(card.event_id), "❌"))
    assert "回复本条消息" in question.content["body"], question.content

    # Wang talks about something else: it is not the reason, and the approval still waits.
    assert [r for r in await _write(chat, WANG, "大家中午一起吃饭吗") if r.room_id == ROOM] == []
    assert await _approval_status(db) == ("pending",)
    # A command still runs as a command while the question is open.
    assert "A1" in _only(await chat.say(WANG, "!审批列表")).content["body"]
    # Someone else's reply to the question is not Wang's reason either.
    assert [r for r in await _write(chat, BOSS, "我来替他说", reply_to=str(question.event_id))] == []
    assert await _approval_status(db) == ("pending",)

    # A reply to the question is the reason.
    answer = _only(await _write(chat, WANG, "预算超标，请压缩后再报", reply_to=str(question.event_id)))
    assert "已驳回" in answer.content["body"] and "预算超标" in answer.content["body"], answer.content
    assert await _approval_status(db) == ("rejected",)


async def test_a_leave_reason_in_a_group_is_only_a_reply_and_in_a_dm_the_next_message(db: Database) -> None:
    chat = DispatchChat(db, FrozenClock(T0), room=ROOM)
    await chat.say(BOSS, f"!会议 安全例会 明天下午3点 {WANG}")
    question = _only(await chat.say(WANG, "!请假 M1"))
    assert "请回复本条消息说明请假原因" in question.content["body"], question.content

    await _write(chat, WANG, "收到，谢谢")
    async with db.reading() as session:
        row = (await session.scalars(select(Attendee).where(Attendee.user_id == WANG))).one()
        assert (row.response, row.reason) == ("leave", None)

    saved = _only(await _write(chat, WANG, "出差在外", reply_to=str(question.event_id)))
    assert "请假原因已记录" in saved.content["body"], saved.content
    async with db.reading() as session:
        row = (await session.scalars(select(Attendee).where(Attendee.user_id == WANG))).one()
        assert row.reason == "出差在外"

    # In Wang's DM with the bot there is nobody else to talk to: the next message is the answer.
    _only(await _write(chat, WANG, "!请假 M1", room=DM, dm=True), room=DM)
    saved = _only(await _write(chat, WANG, "临时有外事接待", room=DM, dm=True), room=DM)
    assert "请假原因已记录" in saved.content["body"], saved.content
    async with db.reading() as session:
        row = (await session.scalars(select(Attendee).where(Attendee.user_id == WANG))).one()
        assert row.reason == "临时有外事接待"


async def test_who_goes_instead_is_only_taken_from_a_reply_in_a_group(db: Database) -> None:
    chat = DispatchChat(db, FrozenClock(T0), room=ROOM)
    sent = await chat.say(BOSS, f"!会议 安全例会 明天下午3点 {WANG}")
    card = next(r for r in sent if "会议通知" in r.content["body"])
    question = _only(await chat.react(WANG, str(card.event_id), "🔁"))
    assert "回复本条消息" in question.content["body"], question.content

    await _write(chat, WANG, "@li 下午的材料你看一下")  # talking to Li, not naming a deputy
    async with db.reading() as session:
        assert await session.scalar(select(Attendee.response).where(Attendee.user_id == WANG)) == "pending"

    named = _only(await _write(chat, WANG, "@li", reply_to=str(question.event_id)))
    assert "@li:localhost 代 @wang:localhost" in named.content["body"], named.content
