"""Incident room chores through a real Synapse: commanders become moderators (power 50), and a
duty room configured by alias (#duty-…:server) receives the incident notice."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from emergency.models import Incident
from records.clock import FrozenClock
from records.db import Database
from tests.e2e.conftest import MakeBot
from tests.support.chat_user import ChatUser
from tests.support.fixtures import MakeUser

pytestmark = pytest.mark.e2e


async def _levels_once(user: ChatUser, room: str, ready: Callable[[dict[str, int]], bool]) -> dict[str, int]:
    """The room's users' power levels once `ready` holds: the relay raises them after the turn
    that gave the role has committed (an outbox action), so they may follow the reply."""
    users: dict[str, int] = {}
    for _ in range(100):
        levels = await user.client.room_get_state_event(room, "m.room.power_levels")
        users = dict(levels.content["users"])
        if ready(users):
            return users
        await asyncio.sleep(0.1)
    return users


async def _incident_room(database_url: str) -> str:
    db = Database(database_url)
    try:
        async with db.transaction() as session:
            incident = await session.scalar(select(Incident))
            assert incident is not None and incident.room_id
            return incident.room_id
    finally:
        await db.dispose()


async def test_commanders_get_power_and_the_aliased_duty_room_hears(make_bot: MakeBot, make_user: MakeUser) -> None:
    officer = await make_user("officer")
    leader = await make_user("leader")
    aide = await make_user("aide")
    server = officer.user_id.split(":", 1)[1]
    localpart = f"duty-{secrets.token_hex(3)}"
    # The alias does not exist yet when the bot starts: it is resolved when first needed.
    bot = await make_bot(
        clock=FrozenClock(datetime.now(UTC)),
        e2ee=False,
        duty_room=f"#{localpart}:{server}",
        roles={"duty_leader": [leader.user_id], "duty_officer": [officer.user_id]},
    )
    created = await officer.client.room_create(alias=localpart, name="值班室", invite=[bot.user_id])
    duty_room = str(created.room_id)
    await officer.wait_for_room(duty_room)
    await officer.wait_for_member(duty_room, bot.user_id)
    command_room = await officer.create_room(invite=[bot.user_id])
    await officer.wait_for_member(command_room, bot.user_id)

    mark = officer.mark()
    await officer.send_text(command_room, "!应急 启动 3 城西停电")
    await officer.wait_for_message(command_room, sender=bot.user_id, contains="已启动", since=mark)
    notice = await officer.wait_for_message(duty_room, sender=bot.user_id, contains="城西停电", since=mark)
    assert "E1" in (notice.body or "")

    # The default commander (the duty leader) is a moderator of the incident room at once.
    room = await _incident_room(bot.settings.database_url)
    await officer.wait_for_room(room)
    levels = await officer.client.room_get_state_event(room, "m.room.power_levels")
    assert levels.content["users"].get(leader.user_id) == 50
    assert aide.user_id not in levels.content["users"]
    before = dict(levels.content["users"])

    # A new commander gets 50 too; nobody already listed (the old commander, the bot where the
    # room version lists its creator) is lowered.
    mark = officer.mark()
    await officer.send_text(command_room, f"!role E1 commander {aide.user_id}")
    # The answer names the new commander (a pill to their id in the HTML), not their raw id.
    named = await officer.wait_for_message(command_room, sender=bot.user_id, contains="指挥长", since=mark)
    assert f"https://matrix.to/#/{aide.user_id}" in named.content.get("formatted_body", "")
    users = await _levels_once(officer, room, lambda users: aide.user_id in users)
    assert users.get(aide.user_id) == 50
    assert users.get(leader.user_id) == 50
    assert all(users.get(user, 0) >= level for user, level in before.items())

    # A non-commanding role gives no power.
    await officer.send_text(command_room, f"!role E1 recorder {officer.user_id}")
    await officer.wait_for_message(command_room, sender=bot.user_id, contains="记录员", since=mark)
    levels = await officer.client.room_get_state_event(room, "m.room.power_levels")
    assert officer.user_id not in levels.content["users"]
