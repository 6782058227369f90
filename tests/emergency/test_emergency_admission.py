"""People brought into an incident room after the turn commits, by the relay's outbox action.

A homeserver that rate-limits answers an invitation with a 429 that nio retries for up to a
minute: inside a handler that kept the turn's transaction (and, on SQLite, the write lock)
open. The handler now queues the invitations; the relay performs them with no transaction open.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from emergency import incidents, room_admin
from emergency.policy import Policy
from records import outbox, outbox_actions
from records.clock import FrozenClock
from records.db import Database
from records.models import OutboxMessage

ROOM = "!incident:hs"


class Homeserver:
    """The room calls the relay makes, recording whether a transaction of `db` was open."""

    user_id = "@bot:hs"

    def __init__(self, db: Database) -> None:
        self.db = db
        self.invited: list[str] = []
        self.levels: dict[str, Any] = {"users": {"@bot:hs": 100}, "users_default": 0}
        self.open_during_calls: list[int] = []

    def _note(self) -> None:
        self.open_during_calls.append(self.db.engine.pool.checkedout())  # type: ignore[attr-defined]

    async def invite(self, room_id: str, user_id: str) -> None:
        self._note()
        self.invited.append(user_id)

    async def power_levels(self, room_id: str) -> dict[str, Any]:
        self._note()
        return dict(self.levels)

    async def set_power_levels(self, room_id: str, content: dict[str, Any]) -> None:
        self._note()
        self.levels = content


async def test_invitations_and_moderators_are_queued_then_done_with_no_transaction_open(db: Database) -> None:
    server = Homeserver(db)
    async with db.transaction() as session:
        await room_admin.queue_admission(session, ROOM, ["@a:hs", "@b:hs", "@a:hs"], moderators=True)
        await room_admin.queue_admission(session, None, ["@c:hs"])  # no room yet: nothing to do
    assert server.invited == []  # the turn itself asked the homeserver nothing
    async with db.reading() as session:
        actions = list(
            await session.scalars(select(OutboxMessage).where(OutboxMessage.event_type == outbox_actions.ACTION))
        )
    assert len(actions) == 1 and actions[0].room_id == ROOM
    ended = await outbox_actions.run(db, server, actions[0])
    assert ended.done
    assert server.invited == ["@a:hs", "@b:hs"]
    assert server.levels["users"] == {"@bot:hs": 100, "@a:hs": 50, "@b:hs": 50}
    assert server.open_during_calls and set(server.open_during_calls) == {0}


async def test_moderators_only_are_not_invited_again(db: Database) -> None:
    server = Homeserver(db)
    async with db.transaction() as session:
        await room_admin.queue_admission(session, ROOM, ["@a:hs"], invite=False, moderators=True)
    async with db.reading() as session:
        action = await session.scalar(select(OutboxMessage).where(OutboxMessage.event_type == outbox_actions.ACTION))
    assert action is not None
    await outbox_actions.run(db, server, action)
    assert server.invited == []
    assert server.levels["users"]["@a:hs"] == 50


async def test_an_incident_room_is_created_with_nobody_invited_and_its_members_invited_once_it_exists(
    db: Database,
) -> None:
    """The homeserver takes ~60 ms per invitation in a room's creation, and the alert DMs wait
    for the room (for its link): with 200 responders, 12 s. The room is made bare; the
    transaction that records it queues its members' invitations, after its card and pin."""
    clock = FrozenClock(datetime(2026, 11, 25, 2, 0, tzinfo=UTC))
    people = incidents.People(["@leader:hs"], ["@officer:hs"], ["@fire:hs", "@bot:hs"])
    async with db.transaction() as session:
        incident = await incidents.declare(
            session, actor="@officer:hs", grade=1, category="自然灾害", title="城东内涝", people=people,
            policy=Policy(), clock=clock,
        )  # fmt: skip
        room_ref = await incidents.queue_room(session, incident, name="E1", topic="t", clock=clock)
        members = list(incident.members)
    async with db.transaction() as session:
        action = await session.get(OutboxMessage, room_ref)
        assert action is not None and action.content["invite"] == []
        await outbox.room_made(session, action, ROOM)
    async with db.transaction() as session:  # the relay's transaction again, after a crash
        action = await session.get(OutboxMessage, room_ref)
        assert action is not None
        await outbox.room_made(session, action, ROOM)
    async with db.reading() as session:
        in_room = list(
            await session.scalars(
                select(OutboxMessage)
                .where((OutboxMessage.room_id == ROOM) | (OutboxMessage.room_ref == room_ref))
                .order_by(OutboxMessage.id)
            )
        )
    admissions = [r for r in in_room if r.event_type == outbox_actions.ACTION]
    assert len(admissions) == 1 and admissions[0].room_id == ROOM
    assert set(admissions[0].content["payload"]["users"]) == set(members) >= {"@leader:hs", "@fire:hs"}
    assert in_room[-1] is admissions[0]  # after the card and its pin
    server = Homeserver(db)
    await outbox_actions.run(db, server, admissions[0])
    assert "@bot:hs" not in server.invited and set(server.invited) == set(members) - {"@bot:hs"}
