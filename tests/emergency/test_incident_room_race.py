"""Whoever is given a role is invited to the incident room, even while the relay is recording it.

The relay records the room it made (and queues the invitation of the incident's members) in a
transaction of its own; a turn giving a role at that moment used to read no room (so it queued
no invitation) while the relay read the members from before the turn (so the new person was not
in its list either): invited by nobody. Both now lock the incident's row before reading it.
Here the two transactions overlap for real, in either order, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text

from emergency import incidents
from emergency.models import Incident
from emergency.policy import Policy
from records import outbox, outbox_actions
from records.clock import FrozenClock
from records.db import Database
from records.models import OutboxMessage
from tests.emergency import test_emergency_chat as chat_test

ROOM = "!incident:hs"
OFFICER = "@officer:hs"
NEW = "@new:hs"
CLOCK = FrozenClock(datetime(2026, 11, 25, 2, 0, tzinfo=UTC))


async def _declared(db: Database) -> tuple[int, int]:
    """Incident E1 declared, its room queued but not made yet: (incident id, the room's action id)."""
    people = incidents.People(["@leader:hs"], [OFFICER], ["@fire:hs"])
    async with db.transaction() as session:
        incident = await incidents.declare(
            session, actor=OFFICER, grade=1, category="自然灾害", title="城东内涝", people=people,
            policy=Policy(), clock=CLOCK,
        )  # fmt: skip
        action = await incidents.queue_room(session, incident, name="E1", topic="t", clock=CLOCK)
        return incident.id, action


async def _blocked(db: Database) -> None:
    """Return once another transaction waits for a lock the caller's transaction holds.

    PostgreSQL shows the waiter; on SQLite the second writer waits for the first one's
    transaction to end, with nothing to observe, so the other task is merely let run."""
    if db.is_sqlite:
        await asyncio.sleep(0.2)
        return
    for _ in range(600):
        async with db.reading() as session:
            waiting = await session.scalar(
                select(func.count())
                .select_from(text("pg_stat_activity"))
                .where(text("wait_event_type = 'Lock' AND datname = current_database()"))
            )
        if waiting:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the other transaction never waited for the incident's row")


async def _record_room(db: Database, action_id: int, hold: Callable[[], Awaitable[None]] | None = None) -> None:
    """The relay's transaction that records the room it made (zhiban.relay)."""
    async with db.transaction() as session:
        action = await session.get(OutboxMessage, action_id)
        assert action is not None
        await outbox.room_made(session, action, ROOM)
        if hold is not None:
            await hold()


async def _give_role(db: Database, incident_id: int, hold: Callable[[], Awaitable[None]] | None = None) -> None:
    """The turn of `!角色 E1 联络员 @new:hs` (sent from the duty room), as the handler does it."""
    async with db.transaction() as session:
        incident = await incidents.get(session, incident_id)
        await incidents.set_role(
            session, incident, role_word="联络员", users=[NEW], actor=OFFICER, office_roles=set(), clock=CLOCK
        )
        if hold is not None:
            await hold()


async def _invited(db: Database) -> set[str]:
    """Everyone some queued admission brings into the incident room."""
    async with db.reading() as session:
        rows = await session.scalars(select(OutboxMessage).where(OutboxMessage.event_type == outbox_actions.ACTION))
        invited = set()
        for row in rows:
            payload = row.content["payload"]
            if row.content["kind"] == "emergency.admit" and payload["room_id"] == ROOM and payload["invite"]:
                invited.update(payload["users"])
        incident = await session.scalar(select(Incident))
        assert incident is not None and incident.room_id == ROOM and NEW in incident.members
    return invited


@pytest.mark.parametrize("first", ["turn", "relay"])
async def test_a_role_given_while_the_relay_records_the_room_is_invited(db: Database, first: str) -> None:
    """One transaction has done its part, uncommitted, when the other starts: the turn has
    given the role when the relay records the room, or the other way round."""
    incident_id, action_id = await _declared(db)

    def turn(hold: Callable[[], Awaitable[None]] | None = None) -> Coroutine[object, object, None]:
        return _give_role(db, incident_id, hold)

    def relay(hold: Callable[[], Awaitable[None]] | None = None) -> Coroutine[object, object, None]:
        return _record_room(db, action_id, hold)

    outer, inner = (turn, relay) if first == "turn" else (relay, turn)
    started: list[asyncio.Task[None]] = []

    async def meanwhile() -> None:
        started.append(asyncio.create_task(inner()))
        await _blocked(db)

    await outer(meanwhile)
    await started[0]
    assert NEW in await _invited(db)


@pytest.mark.parametrize("role", ["联络员", "副指挥长"])
async def test_a_role_given_inside_the_room_to_someone_outside_it_invites_them(db: Database, role: str) -> None:
    """`!角色 联络员 @b` said in the incident room used to invite nobody (and a deputy only got
    moderator power in a room they were not in)."""
    clock = FrozenClock(chat_test.T0)
    chat = chat_test.Chat(db, clock)
    client = chat_test.InvitingClient(db)
    chat.dispatcher.context["client"] = client
    await chat_test._open_incident(db, clock)
    room, newcomer = chat_test.INCIDENT_ROOM, chat_test.STAFF_B
    sent = await chat.say(chat_test.LEADER, f"!角色 E1 {role} {newcomer}", room)
    assert [r.content["body"] for r in sent if r.event_type != outbox_actions.ACTION] == [f"📣 E1：{role} —— b"]
    assert (room, newcomer, 0) in client.invited  # by the relay, after the turn committed
