"""What a turn posts to an incident room whose room the relay has not made yet reaches that room.

The room is made by the relay after the declaring turn commits (incidents.queue_room); until it
records the room, `incident.room_id` is None. A grade change, a class given, or a role given in
that window used to post nothing to the room (the people in it never learnt of it), and the
alert DMs of the responders a class brings in carried no link ("—"). Now such rows wait for the
room's creation (`room_ref`) and go there, with its link, whichever transaction commits first.
On SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from emergency import incidents
from emergency.policy import Policy
from records import outbox
from records.clock import FrozenClock
from records.config import ResponderRule
from records.db import Database
from records.models import OutboxMessage
from tests.emergency import test_emergency_chat as chat_test
from zhiban.app import build_dispatcher

ROOM = chat_test.INCIDENT_ROOM
FIRE = "@fire:localhost"


async def _declared_without_room(db: Database, clock: FrozenClock, category: str | None) -> int:
    """Incident E1 declared by the officer, its room queued but not made: the action's id."""
    people = incidents.People([chat_test.LEADER], [chat_test.OFFICER], [chat_test.STAFF_A])
    async with db.transaction() as session:
        incident = await incidents.declare(
            session, actor=chat_test.OFFICER, grade=2, category=category, title="城东内涝", people=people,
            policy=Policy(), clock=clock,
        )  # fmt: skip
        return await incidents.queue_room(session, incident, name="E1", topic="t", clock=clock)


async def _make_room(db: Database, action_id: int) -> None:
    """The relay's transaction recording the room it made (zhiban.relay)."""
    async with db.transaction() as session:
        action = await session.get(OutboxMessage, action_id)
        assert action is not None
        await outbox.room_made(session, action, ROOM)


async def _delivered(db: Database, action_id: int) -> tuple[list[str], dict[str, str]]:
    """What the relay sends in the incident room, and each DM's text with its link filled in,
    as the relay fills rows that waited for the room."""
    async with db.reading() as session:
        action = await session.get(OutboxMessage, action_id)
        assert action is not None and action.room_id == ROOM
        rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    in_room, dms = [], {}
    for row in rows:
        body = str(row.content.get("body", ""))
        if row.room_ref == action_id:
            body = str(outbox.fill_room(row.content, ROOM, f"https://matrix.to/#/{ROOM}").get("body", ""))
        if row.room_id == ROOM or (row.room_ref == action_id and row.room_id is None and row.to_user is None):
            in_room.append(body)
        elif row.to_user:
            dms[row.to_user] = body
    return in_room, dms


def _chat(db: Database, clock: FrozenClock) -> chat_test.Chat:
    """The chat of tests.emergency.test_emergency_chat, with responders for natural disasters."""
    chat = chat_test.Chat(db, clock)
    chat.settings.emergency.responders = [ResponderRule(classes=["自然灾害"], grades=[1, 2], users=[FIRE])]
    chat.dispatcher = build_dispatcher(chat.settings, db, clock=clock, extra_context={"client": chat_test.FakeClient()})
    return chat


async def test_a_grade_change_before_the_room_is_made_is_posted_in_it(db: Database) -> None:
    clock = FrozenClock(chat_test.T0)
    action_id = await _declared_without_room(db, clock, "自然灾害")
    chat = _chat(db, clock)
    await chat.say(chat_test.LEADER, "!incident escalate E1 1")
    await _make_room(db, action_id)
    in_room, _ = await _delivered(db, action_id)
    assert any(body.startswith("⚠️ 事件 E1 等级由 Ⅱ 级调整为 Ⅰ 级") for body in in_room), in_room


async def test_a_class_given_before_the_room_is_made_is_posted_and_its_alerts_link_the_room(db: Database) -> None:
    clock = FrozenClock(chat_test.T0)
    action_id = await _declared_without_room(db, clock, None)
    chat = _chat(db, clock)
    await chat.say(chat_test.LEADER, "!incident class E1 自然灾害")
    await _make_room(db, action_id)
    in_room, dms = await _delivered(db, action_id)
    assert any(body.startswith("✅ E1 类别：未指定 → 自然灾害") for body in in_room), in_room
    assert FIRE in dms and "https://matrix.to/#/" in dms[FIRE], dms
    async with db.reading() as session:
        incident = await incidents.get(session, 1)
        assert FIRE in incident.members  # invited with the other members when the room is made


async def test_a_role_given_before_the_room_is_made_is_announced_in_it(db: Database) -> None:
    clock = FrozenClock(chat_test.T0)
    action_id = await _declared_without_room(db, clock, "自然灾害")
    chat = _chat(db, clock)
    await chat.say(chat_test.LEADER, f"!角色 E1 联络员 {chat_test.STAFF_B}")
    await _make_room(db, action_id)
    in_room, _ = await _delivered(db, action_id)
    assert "📣 E1：联络员 —— b" in in_room, in_room


async def test_a_post_after_the_room_is_made_goes_to_the_room(db: Database) -> None:
    """The turn read the incident before the relay committed its room: still the room."""
    clock = FrozenClock(chat_test.T0)
    action_id = await _declared_without_room(db, clock, "自然灾害")
    await _make_room(db, action_id)
    chat = _chat(db, clock)
    await chat.say(chat_test.LEADER, "!incident escalate E1 1")
    in_room, _ = await _delivered(db, action_id)
    assert any(body.startswith("⚠️ 事件 E1 等级由 Ⅱ 级调整为 Ⅰ 级") for body in in_room), in_room


async def test_a_report_deadline_while_the_room_is_still_unmade_is_posted_in_it(db: Database) -> None:
    """An outage kept the room from being made past the 首报's deadline: the reminder and the
    deadline notice wait for the room instead of going nowhere."""
    clock = FrozenClock(chat_test.T0)
    action_id = await _declared_without_room(db, clock, "自然灾害")
    chat = _chat(db, clock)
    clock.advance(timedelta(minutes=20))
    await chat.pump()
    clock.advance(timedelta(minutes=10))
    await chat.pump()
    await _make_room(db, action_id)
    in_room, _ = await _delivered(db, action_id)
    assert any(body.startswith("⏰ E1 首报将于") for body in in_room), in_room
    assert any(body.startswith("🔴 E1 首报已到时限") for body in in_room), in_room
