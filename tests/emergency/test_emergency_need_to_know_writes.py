"""Need-to-know on the commands that change an incident, through the real dispatcher on SQLite and
PostgreSQL.

Every write command that names an incident, an order or a hand-over, sent by a stranger from
another room, gets word for word the answer it got before the record existed, shows none of the
incident's title or orders, and changes nothing (no audit entry, no timeline line, no message to
anyone else). Someone who may see the incident but lacks the role still gets the precise refusal
("only the commander…"), and changes nothing either.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from emergency.models import Handover, Incident, LogEntry, Order, Receipt, Report, TimelineEntry
from emergency.texts import tr
from notifications.names import Names
from records.clock import FrozenClock
from records.db import Database
from records.models import AuditEntry, OutboxMessage, Timer
from tests.emergency.test_emergency_chat import (
    INCIDENT_ROOM,
    LEADER,
    OFFICER,
    ROOM,
    STAFF_A,
    STAFF_B,
    STRANGER,
    T0,
    Chat,
)
from tests.emergency.test_emergency_need_to_know import ELSEWHERE, ORDER_TEXT, TITLE, _fill

# Every write command that names an incident or an order (or may be aimed at one), as a stranger
# would type it in a room of their own.
STRANGER_WRITES = (
    "!应急 关闭 E1",
    "!incident close E1",
    "!应急 调级 E1 1",
    "!incident escalate E1 4",
    f"!角色 E1 指挥长 {STRANGER}",
    f"!role E1 recorder {STAFF_B}",
    f"!指令 E1 {STAFF_B} 立即撤离",
    "!指令 确认 O1",
    "!指令 完成 O1 已到",
    "!收到 O1",
    "!ack O1",
    "!已完成 O1 已到",
    "!报告 首报 地点: 和平路 E1",
    "!值班记录 E1 来源:城东街道 和平路积水",
    "!交接班 E1 城东泵站待修",
)


async def _snapshot(db: Database) -> tuple[Any, ...]:
    """Everything a refused command must leave as it was."""
    async with db.reading() as session:
        counted = [
            await session.scalar(select(func.count()).select_from(table))
            for table in (Incident, Order, Receipt, Report, TimelineEntry, LogEntry, Handover, AuditEntry)
        ]
        pending = await session.scalar(select(func.count()).select_from(Timer).where(Timer.status == "pending"))
        incidents = [
            (i.status, i.grade, i.roles, sorted(i.members or []))
            for i in await session.scalars(select(Incident).order_by(Incident.id))
        ]
        receipts = [(r.user_id, r.acked_at, r.done_at) for r in await session.scalars(select(Receipt))]
        acked = [h.acked_by for h in await session.scalars(select(Handover).order_by(Handover.id))]
    return (*counted, pending, incidents, receipts, acked)


async def _only_reply(chat: Chat, sender: str, body: str, room: str) -> str:
    """The one message the bot sends for `body`: its answer to the sender, in that room."""
    sent = await chat.say(sender, body, room)
    assert [(r.room_id, r.to_user) for r in sent] == [(room, None)], [r.content.get("body") for r in sent]
    return str(sent[0].content["body"])


def _hides_the_incident(body: str) -> None:
    assert TITLE not in body and ORDER_TEXT not in body, body


async def test_every_write_by_a_stranger_is_answered_as_for_an_unknown_id(db: Database) -> None:
    clock = FrozenClock(T0)
    chat = Chat(db, clock)
    # What a stranger hears while E1 and O1 do not exist: the reference.
    unknown = {command: await _only_reply(chat, STRANGER, command, ELSEWHERE) for command in STRANGER_WRITES}
    await _fill(chat, db, clock)
    before = await _snapshot(db)

    for command in STRANGER_WRITES:
        refused = await _only_reply(chat, STRANGER, command, ELSEWHERE)
        assert refused == unknown[command], (command, refused, unknown[command])
        assert refused.startswith("⚠️"), refused
        _hides_the_incident(refused)
    assert await _snapshot(db) == before
    # The ones that name the incident read "no incident E1", never "only the commander".
    for command in ("!应急 关闭 E1", "!应急 调级 E1 1", f"!角色 E1 指挥长 {STRANGER}"):
        assert unknown[command].startswith("⚠️ " + tr("em.incident.not_found", "zh", id="E1")), unknown[command]


async def test_a_stranger_is_answered_as_for_an_unknown_id_in_english_too(db: Database) -> None:
    clock = FrozenClock(T0)
    chat = Chat(db, clock)
    await _fill(chat, db, clock)
    await chat.say(STRANGER, "!lang en", ELSEWHERE)
    before = await _snapshot(db)

    for command in ("!incident close {}", "!incident escalate {} 1", f"!role {{}} commander {STRANGER}"):
        refused = await _only_reply(chat, STRANGER, command.format("E1"), ELSEWHERE)
        missing = await _only_reply(chat, STRANGER, command.format("E9"), ELSEWHERE)
        assert refused == missing.replace("E9", "E1"), (refused, missing)
        assert "No incident E1" in refused
        _hides_the_incident(refused)
    assert await _snapshot(db) == before


@pytest.mark.parametrize(
    ("sender", "command", "room", "key", "ref"),
    [
        # A responder of E1 (a member) from another room, and a stranger inside E1's room (who reads
        # everything posted there): both may see E1, neither may run it.
        (STAFF_A, "!应急 关闭 E1", ELSEWHERE, "em.incident.close_not_allowed", "E1"),
        (STRANGER, "!应急 关闭", INCIDENT_ROOM, "em.incident.close_not_allowed", "E1"),
        (STAFF_A, "!应急 调级 E1 1", ELSEWHERE, "em.incident.not_allowed", "E1"),
        (STRANGER, "!应急 调级 1", INCIDENT_ROOM, "em.incident.not_allowed", "E1"),
        (STAFF_A, f"!角色 E1 指挥长 {STAFF_A}", ELSEWHERE, "em.role.not_allowed", "E1"),
        (STRANGER, f"!角色 指挥长 {STRANGER}", INCIDENT_ROOM, "em.role.not_allowed", "E1"),
        (STAFF_A, f"!指令 {STAFF_B} 立即撤离", INCIDENT_ROOM, "em.order.not_allowed", "E1"),
        # A member who is not the order's recipient.
        (OFFICER, "!收到 O1", ELSEWHERE, "em.order.not_recipient", "O1"),
        (OFFICER, "!已完成 O1 已到", ELSEWHERE, "em.order.not_recipient", "O1"),
    ],
)
async def test_who_may_see_but_not_act_gets_the_precise_refusal(
    db: Database, sender: str, command: str, room: str, key: str, ref: str
) -> None:
    clock = FrozenClock(T0)
    chat = Chat(db, clock)
    await _fill(chat, db, clock)
    before = await _snapshot(db)

    refused = await _only_reply(chat, sender, command, room)
    assert refused.startswith("⚠️ " + tr(key, "zh", id=ref)), refused
    assert await _snapshot(db) == before


async def test_the_commander_still_acts_from_anywhere(db: Database) -> None:
    clock = FrozenClock(T0)
    chat = Chat(db, clock)
    await _fill(chat, db, clock)

    assert "由 Ⅱ 级调整为 Ⅰ 级" in await chat.reply_to(LEADER, "!应急 调级 E1 1", ELSEWHERE)
    assert "联络员" in await chat.reply_to(LEADER, f"!角色 E1 联络员 {STRANGER}", ELSEWHERE)
    # Given a role, the former stranger is a participant: now told why, no longer "no incident".
    assert tr("em.incident.close_not_allowed", "zh", id="E1") in await chat.reply_to(
        STRANGER, "!应急 关闭 E1", ELSEWHERE
    )


async def test_a_pin_from_another_room_adds_nothing(db: Database) -> None:
    clock = FrozenClock(T0)
    chat = Chat(db, clock)
    await _fill(chat, db, clock)
    async with db.reading() as session:
        card = await session.scalar(select(OutboxMessage).where(OutboxMessage.ref == "card:O1"))
    assert card is not None and card.event_id
    before = await _snapshot(db)

    # 📌 works only in the incident's room: from elsewhere it is not an incident's message at all.
    assert await chat.react(STRANGER, card.event_id, "📌", ELSEWHERE) == []
    assert await chat.react(STRANGER, "$nothing", "📌", ELSEWHERE) == []
    assert await _snapshot(db) == before


async def test_a_hand_over_cannot_be_taken_over_from_another_room(db: Database) -> None:
    clock = FrozenClock(T0)
    chat = Chat(db, clock)
    posted = [r for r in await chat.say(OFFICER, "!交接班 城东泵站待修，已报水务", ROOM) if r.ref == "handover:H1"]
    assert len(posted) == 1 and posted[0].event_id
    before = await _snapshot(db)

    # No next shift is rostered, so the note names nobody; a ✅ sent from another room on its event
    # id used to take it over. Now it reads as an unknown hand-over and changes nothing.
    sent = await chat.react(STRANGER, posted[0].event_id, "✅", ELSEWHERE)
    bodies = [str(r.content.get("body")) for r in sent]
    assert bodies == ["⚠️ " + tr("em.handover.not_found", "zh", id="H1")], bodies
    assert "城东泵站" not in bodies[0]
    assert await _snapshot(db) == before
    # In the duty room, where the note was posted and read, the ✅ takes it over as before.
    taken = await chat.react(STAFF_A, posted[0].event_id, "✅", ROOM)
    acked = Names().plain(tr("em.handover.acked", "zh", id="H1", user=STAFF_A))  # the name, not the ID
    assert any(acked in str(r.content.get("body")) for r in taken)
    async with db.reading() as session:
        assert await session.scalar(select(Handover.acked_by)) == STAFF_A
