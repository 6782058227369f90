"""The bot is killed (SIGKILL) just after the homeserver made the incident room, before the bot
noted it; restarted, it must not make a second room.

The declaration used to create the room inside the handler's transaction: killed there, the
declaration was rolled back, handled again after the restart, and a second room with the same
name was made, every responder invited twice, one room dead. The room is now an outbox action
that carries a creation id in the room's state, and an action tried before looks for its room
before creating one.

The window is made certain: the first bot process runs with the Matrix client's room creation
wrapped so that, once the incident room exists at the homeserver, it drops a marker file and
hangs; the test kills it at the marker.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from nio import AsyncClient, JoinedRoomsResponse, RoomGetStateEventResponse

from tests.e2e.conftest import BotHandle, MakeBot
from tests.support.fixtures import MakeUser

pytestmark = pytest.mark.e2e

TITLE = "城东内涝"

# Runs `zhiban bot` with nio's room creation hanging right after the incident room is made.
_HANG_AFTER_CREATE = """
import asyncio, pathlib, runpy, sys
import nio

marker = pathlib.Path(sys.argv[1])
title = sys.argv[2]
original = nio.AsyncClient.room_create

async def room_create(self, *args, **kwargs):
    response = await original(self, *args, **kwargs)
    if title in str(kwargs.get("name") or "") and getattr(response, "room_id", None):
        marker.write_text(str(getattr(response, "room_id", "")))
        await asyncio.sleep(3600)  # killed here
    return response

nio.AsyncClient.room_create = room_create
sys.argv = ["zhiban", "bot", "--config", sys.argv[3]]
runpy.run_module("zhiban.cli", run_name="__main__")
"""


def _spawn_hanging(bot: BotHandle, marker: Path) -> None:
    log = open(bot.config_path.parent / "bot-process.log", "ab")
    bot.process = subprocess.Popen(
        [sys.executable, "-c", _HANG_AFTER_CREATE, str(marker), TITLE, str(bot.config_path)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "ZHIBAN_CONFIG": str(bot.config_path)},
    )


async def _until(check: object, what: str, seconds: float = 90.0) -> None:
    """Wait for `check()` to hold (a guard against a hang, not a speed check)."""
    for _ in range(int(seconds / 0.2)):
        if check():  # type: ignore[operator]
            return
        await asyncio.sleep(0.2)
    raise TimeoutError(what)


async def _bot_rooms_named(bot: BotHandle, homeserver_url: str, title: str) -> list[str]:
    """The rooms the bot has joined whose name holds `title`, asked of the homeserver."""
    client = AsyncClient(homeserver_url, bot.user_id)
    try:
        await client.login(bot.settings.matrix.password)
        joined = await client.joined_rooms()
        assert isinstance(joined, JoinedRoomsResponse), joined
        found = []
        for room_id in joined.rooms:
            name = await client.room_get_state_event(room_id, "m.room.name")
            if isinstance(name, RoomGetStateEventResponse) and title in str(name.content.get("name", "")):
                found.append(room_id)
        return found
    finally:
        await client.logout()
        await client.close()


def _rooms_named(user: object, title: str) -> set[str]:
    """Rooms the user was invited to (joined or not) whose name holds `title`."""
    client = user.client  # type: ignore[attr-defined]
    rooms = {**client.invited_rooms, **client.rooms}
    return {room_id for room_id, room in rooms.items() if title in str(room.name or room.display_name or "")}


async def test_a_bot_killed_while_creating_the_incident_room_makes_it_once(
    make_bot: MakeBot, make_user: MakeUser, tmp_path: Path
) -> None:
    officer = await make_user("officer")
    leader = await make_user("leader")
    fire = await make_user("fire")
    bot = await make_bot(
        start=False,
        e2ee=False,
        roles={"duty_leader": [leader.user_id], "duty_officer": [officer.user_id]},
        emergency={"responders": [{"classes": ["自然灾害"], "users": [fire.user_id]}]},
    )
    marker = tmp_path / "incident-room-created"
    _spawn_hanging(bot, marker)
    duty_room = await officer.create_room(invite=[bot.user_id])
    await officer.wait_for_member(duty_room, bot.user_id, timeout=60)

    mark = officer.mark()
    await officer.send_text(duty_room, f"!应急 启动 Ⅱ 自然灾害 {TITLE}")
    await _until(marker.exists, "the incident room was never created")
    bot.kill()  # the room exists at the homeserver; the bot never noted it
    bot.spawn()

    await officer.wait_for_message(duty_room, sender=bot.user_id, contains="已启动", since=mark, timeout=90)
    # The responder's alert DM goes out after the room exists: by then any second room would too.
    await fire.wait_for(lambda e: e.sender == bot.user_id and "E1" in (e.body or ""), timeout=90)
    rooms = await _bot_rooms_named(bot, officer.hs.base_url, TITLE)
    assert len(rooms) == 1, rooms
    for person in (fire, leader):
        await _until(lambda p=person: _rooms_named(p, TITLE), f"{person.user_id} was never invited")
        assert _rooms_named(person, TITLE) == set(rooms), (person.user_id, _rooms_named(person, TITLE))
    bot.terminate()
