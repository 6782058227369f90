"""`!角色` answers and announces the people it gave a role by display name, not Matrix ID."""

from __future__ import annotations

from sqlalchemy import select

from records.clock import FrozenClock
from records.db import Database
from records.models import OutboxMessage, Person
from tests.emergency.test_emergency_chat import INCIDENT_ROOM, LEADER, ROOM, STAFF_A, STAFF_B, T0, Chat, _open_incident


async def test_a_role_is_given_to_people_shown_by_name(db: Database) -> None:
    clock = FrozenClock(T0)
    await _open_incident(db, clock)
    async with db.transaction() as s:
        s.add(Person(user_id=STAFF_A, display_name="王科长", roles=[], created_at=T0))
        s.add(Person(user_id=STAFF_B, display_name="赵处长", roles=[], created_at=T0))
    chat = Chat(db, clock)
    reply = await chat.reply_to(LEADER, f"!角色 E1 联络员 {STAFF_A} {STAFF_B}", ROOM)
    assert reply == "📣 E1：联络员 —— 王科长、赵处长", reply
    async with db.reading() as s:
        posted = [
            m.content
            for m in await s.scalars(select(OutboxMessage).where(OutboxMessage.room_id == INCIDENT_ROOM))
            if "联络员" in str(m.content.get("body"))
        ]
    assert [c["body"] for c in posted] == ["📣 E1：联络员 —— 王科长、赵处长"]
    assert 'href="https://matrix.to/#/@a:localhost">王科长</a>' in posted[0]["formatted_body"]
