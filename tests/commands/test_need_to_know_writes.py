"""Need-to-know on the write side: a stranger's write command learns nothing of the record.

Every command that changes an approval, a meeting, a task or a reminder named by its id is
typed by someone the record's read rule does not admit (docs/need-to-know.md), in a direct
chat, in another room and in the record's own room. The answer must be the very answer for an
id that exists nowhere (so it neither confirms the record nor names its title), and nothing
may change: no audit entry, nothing sent to anybody but the one reply.

Those the rule admits but the action does not (an attendee cancelling, a lead accepting)
still get the precise refusal: they know the record already. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import func, select, update

from bot.types import Message
from records import outbox
from records.clock import FrozenClock
from records.db import Database
from records.models import AuditEntry, OutboxMessage
from tests.bot.fakes import message
from tests.support.dispatch_chat import DispatchChat
from tests.support.need_to_know import (
    ADMIN,
    BOSS,
    MEMBER,
    OTHER_ROOM,
    ROOM,
    STRANGER,
    T0,
    add_reminder,
    office_chat,
    office_records,
)
from tests.support.need_to_know import TITLES as OFFICE_TITLES

FIRST = "@chu:localhost"  # the approval's first signer
LEADER = "@leader:localhost"  # the office-wide leader role, on nothing (leaders oversee tasks)
OTHER = "@wang:localhost"  # someone a command names (a deputy, a new signer)

TITLES = {**OFFICE_TITLES, "room_reminder": "蓄滞洪区值守交接"}
UNKNOWN = {"approval": "A987654", "meeting": "M987654", "task": "T987654", "reminder": "R987654"}
UNKNOWN["room_reminder"] = "R987655"


@dataclass(frozen=True)
class Write:
    kind: str
    template: str  # "{code}" is the record's id
    # A room reminder is posted to its room, so everyone there may see it (and its admin cancel it).
    room_members_see: bool = False


WRITES = [
    # approvals
    Write("approval", "!同意 {code}"),
    Write("approval", "!批准 {code} 同意上报"),
    Write("approval", "!驳回 {code} 经费来源不明"),
    Write("approval", f"!转交 {{code}} {OTHER}"),
    Write("approval", f"!加签 {{code}} {OTHER} 后"),
    Write("approval", "!退回 {code} 请补充附件"),
    Write("approval", "!撤回 {code}"),
    Write("approval", "!催办 {code}"),
    Write("approval", "!重新提交 {code}"),
    Write("approval", "!审批 设置 {code} 密级 秘密"),
    # meetings
    Write("meeting", "!参会 {code}"),
    Write("meeting", "!请假 {code} 出差"),
    Write("meeting", "!请假 {code}"),
    Write("meeting", f"!代会 {{code}} {OTHER}"),
    Write("meeting", "!签到 {code} 1234"),
    Write("meeting", "!纪要 {code} 会议决定立即转移"),
    Write("meeting", f"!议定事项 {{code}} {OTHER} 报送转移简报 截止 周五"),
    Write("meeting", "!会议 改期 {code} 明天下午3点"),
    Write("meeting", "!会议 改地点 {code} 301"),
    Write("meeting", "!会议 取消 {code} 改期"),
    Write("meeting", "!会议 结束 {code}"),
    # supervised tasks
    Write("task", "!进展 {code} 50% 已完成一半"),
    Write("task", "!完成 {code} 已核查"),
    Write("task", "!办结 {code}"),
    Write("task", "!退办 {code} 名单不全"),
    Write("task", "!延期 {code} 下周五 需要会签"),
    Write("task", "!同意延期 {code}"),
    Write("task", "!驳回延期 {code} 时间紧"),
    Write("task", "!督办 撤销 {code} 不再需要"),
    # reminders
    Write("reminder", "!取消提醒 {code}"),
    Write("reminder", "!cancel {code}"),
    Write("room_reminder", "!取消提醒 {code}", room_members_see=True),
]


async def _records(db: Database, clock: FrozenClock) -> dict[str, str]:
    """One record of each kind in ROOM, started by BOSS with MEMBER on it; their codes."""
    async with db.transaction() as session:
        codes = await office_records(session, clock, first_signer=FIRST)
        for kind, owner, target in (("reminder", BOSS, "me"), ("room_reminder", MEMBER, "room")):
            reminder = await add_reminder(session, clock, owner=owner, target=target, text=TITLES[kind])
            codes[kind] = reminder.code
    return codes


def _chat(db: Database, clock: FrozenClock) -> DispatchChat:
    return office_chat(db, clock, {"admin": [ADMIN], "leader": [LEADER]})


async def _audit_count(db: Database) -> int:
    async with db.reading() as session:
        return int(await session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


async def _only_the_reply(chat: DispatchChat, sender: str, body: str, room: str, *, dm: bool) -> str:
    """The one answer to `body`; fails if the command audited anything or sent anything else."""
    before = await _audit_count(chat.db)
    sent = await chat.say(sender, body, room, dm=dm)
    assert [r.room_id for r in sent] == [room], [(r.room_id, r.to_user, r.content.get("body")) for r in sent]
    assert await _audit_count(chat.db) == before, body
    return str(sent[0].content["body"])


@pytest.mark.parametrize("write", WRITES, ids=[f"{w.kind}:{w.template}" for w in WRITES])
async def test_a_strangers_write_is_answered_as_for_a_record_that_does_not_exist(db: Database, write: Write) -> None:
    clock = FrozenClock(T0)
    chat = _chat(db, clock)
    codes = await _records(db, clock)
    code, unknown = codes[write.kind], UNKNOWN[write.kind]

    places = [("!dm-stranger:localhost", True), (OTHER_ROOM, False)]
    if not write.room_members_see:
        places.append((ROOM, False))
    for room, dm in places:
        refused = await _only_the_reply(chat, STRANGER, write.template.format(code=code), room, dm=dm)
        missing = await _only_the_reply(chat, STRANGER, write.template.format(code=unknown), room, dm=dm)
        assert refused == missing.replace(unknown, code), (room, refused, missing)
        assert refused.startswith("⚠️"), refused
        assert not any(title in refused for title in TITLES.values()), refused


@pytest.mark.parametrize(
    ("who", "command", "expected"),
    [
        # MEMBER signs the second step: they see the approval, it is not their turn yet.
        (MEMBER, "!同意 {approval}", "{approval} 还没到您"),
        # An admin sees every approval but decides none they are not on.
        (ADMIN, "!同意 {approval}", "您不是 {approval} 的审批人"),
        (MEMBER, "!撤回 {approval}", "只有 {approval} 的发起人"),
        # An attendee may see the meeting, not cancel it.
        (MEMBER, "!会议 取消 {meeting}", "只有会议 {meeting} 的召集人"),
        # The lead may see the task, not accept it; a leader oversees it but reports nothing.
        (MEMBER, "!办结 {task}", "只有 {task} 的交办人"),
        (LEADER, "!进展 {task} 50%", "您不是 {task} 的牵头人"),
        # A room reminder is seen in its room: someone there is told it is not theirs.
        (BOSS, "!取消提醒 {room_reminder}", "提醒 {room_reminder} 不是您设的"),
    ],
)
async def test_those_who_may_see_still_get_the_precise_refusal(
    db: Database, who: str, command: str, expected: str
) -> None:
    clock = FrozenClock(T0)
    chat = _chat(db, clock)
    codes = await _records(db, clock)
    answer = await _only_the_reply(chat, who, command.format(**codes), ROOM, dm=False)
    assert answer.startswith("⚠️") and expected.format(**codes) in answer, answer


async def test_a_reaction_on_a_card_in_the_room_is_answered_about_that_card(db: Database) -> None:
    """Someone in the room sees a meeting's card there: ✅ on it says they are not invited.

    A reaction names no id: it answers about the card it is on, which the reactor reads.
    """
    clock = FrozenClock(T0)
    chat = _chat(db, clock)
    code = (await _records(db, clock))["meeting"]
    async with db.transaction() as session:
        card = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.ref == f"card:{code}", OutboxMessage.relation.is_(None))
        )
        assert card is not None
        card.event_id, card.sent_at = "$meeting-card", clock.now()
    before = await _audit_count(db)
    sent = await chat.react(STRANGER, "$meeting-card", "✅")
    assert await _audit_count(db) == before
    assert [r.content["body"] for r in sent] == [f"⚠️ 您不在会议 {code} 的参会名单中。"], sent


async def _sent_approval_card(db: Database, clock: FrozenClock) -> str:
    """An approval's card as the chat handler posts it, once sent as "$approval-card"; its code."""
    code = (await _records(db, clock))["approval"]
    async with db.transaction() as session:
        await outbox.enqueue(session, outbox.text_content(code), room_id=ROOM, ref=f"card:{code}")
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.ref == f"card:{code}", OutboxMessage.relation.is_(None))
            .values(event_id="$approval-card", sent_at=clock.now())
        )
    return code


def _reply_to_card(sender: str, body: str, *, room: str = ROOM, msgtype: str = "m.text") -> Message:
    return message(body, sender=sender, room=room, msgtype=msgtype, reply_to="$approval-card")


async def test_a_strangers_plain_reply_on_an_approval_card_learns_nothing(db: Database) -> None:
    """A plain "同意" reply names its card by an event id the client sends: the one rule first."""
    clock = FrozenClock(T0)
    chat = _chat(db, clock)
    code = await _sent_approval_card(db, clock)
    before = await _audit_count(db)
    for room in (ROOM, OTHER_ROOM):
        sent = await chat._feed(_reply_to_card(STRANGER, "同意", room=room))
        assert [r.content["body"] for r in sent] == [f"⚠️ 没有找到审批 {code}。"], sent
    assert await _audit_count(db) == before
    # Its approver still decides by replying.
    sent = await chat._feed(_reply_to_card(FIRST, "同意"))
    assert await _audit_count(db) > before, [r.content.get("body") for r in sent]


async def test_a_file_named_like_a_decision_replied_to_a_card_decides_nothing(db: Database) -> None:
    """A file's body is its name: "同意.pdf" sent as a reply to the card is not the approver's yes."""
    clock = FrozenClock(T0)
    chat = _chat(db, clock)
    await _sent_approval_card(db, clock)
    before = await _audit_count(db)
    await chat._feed(_reply_to_card(FIRST, "同意.pdf", msgtype="m.file"))
    assert await _audit_count(db) == before
    # The same approver's typed "同意" is the yes.
    await chat._feed(_reply_to_card(FIRST, "同意"))
    assert await _audit_count(db) > before
