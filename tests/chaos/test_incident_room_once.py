"""The bot is killed (SIGKILL) just after the homeserver made the incident room, before the bot
noted it; restarted, it must not make a second room.

The declaration used to create the room inside the handler's transaction: killed there, the
declaration was rolled back, handled again after the restart, and a second room with the same
name was made, every responder invited twice, one room dead. The room is now an outbox action
that carries a creation id in the room's state, and an action tried before looks for its room
before creating one.

The window is made certain: the first bot process runs with the Matrix client's room creation
wrapped so that, once the incident room exists at the homeserver, it drops a marker file and
hangs; the test kills it at the marker. What was made and sent is read from the homeserver
(a fresh login of the bot's account), not from the test clients' memory.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.conftest import MakeBot
from tests.support.fixtures import MakeUser
from tests.support.processes import History, count, kill, spawn_bot, stop, until, wait_for_marker

pytestmark = pytest.mark.e2e

TITLE = "城东内涝"

# In the first bot process: nio's room creation hangs right after the incident room is made.
HANG_AFTER_CREATE = f"""
import nio
_create = nio.AsyncClient.room_create

async def room_create(self, *args, **kwargs):
    response = await _create(self, *args, **kwargs)
    if {TITLE!r} in str(kwargs.get("name") or "") and getattr(response, "room_id", None):
        await hang(response.room_id)  # killed here
    return response

nio.AsyncClient.room_create = room_create
"""


async def _until(check: Callable[[], object], what: str, seconds: float = 90.0) -> None:
    """Kept for the fault tests that import it from here; `tests.support.processes.until` is the
    shared one (it also takes async checks and reports the state at the timeout)."""
    await until(check, what, within=seconds)


async def _rooms_named(history: History, title: str) -> list[str]:
    """The rooms the reader has joined whose name holds `title`, asked of the homeserver."""
    found = []
    for room_id in await history.joined_rooms():
        name = await history.client.room_get_state_event(room_id, "m.room.name")
        if title in str(getattr(name, "content", {}).get("name", "")):
            found.append(room_id)
    return found


async def test_a_bot_killed_while_creating_the_incident_room_makes_it_once(
    make_bot: MakeBot, make_user: MakeUser, tmp_path: Path
) -> None:
    officer = await make_user("officer")
    leader = await make_user("leader")
    fire = await make_user("fire")
    bot = await make_bot(
        stepup={"incident_declare": False},  # grade Ⅱ without the phone's confirmation here
        start=False,
        e2ee=False,
        roles={"duty_leader": [leader.user_id], "duty_officer": [officer.user_id]},
        emergency={"responders": [{"classes": ["自然灾害"], "users": [fire.user_id]}]},
    )
    marker = tmp_path / "incident-room-created"
    log_path = tmp_path / "bot.log"
    process = spawn_bot(bot.config_path, hook=HANG_AFTER_CREATE, marker=marker, log_path=log_path)
    try:
        duty_room = await officer.create_room(invite=[bot.user_id])
        await officer.wait_for_member(duty_room, bot.user_id, timeout=60)

        mark = officer.mark()
        await officer.send_text(duty_room, f"!应急 启动 Ⅱ 自然灾害 {TITLE}")
        made = await wait_for_marker(marker, process, log_path=log_path)
        kill(process)  # the room exists at the homeserver; the bot never noted it
        process = spawn_bot(bot.config_path, log_path=log_path)

        await officer.wait_for_message(duty_room, sender=bot.user_id, contains="已启动", since=mark, timeout=90)
        # The responder's alert DM goes out after the room exists: by then any second room would too.
        await fire.wait_for(lambda e: e.sender == bot.user_id and "E1" in (e.body or ""), timeout=90)
        async with History.login(officer.hs.base_url, bot.user_id, bot.settings.matrix.password) as history:
            assert await _rooms_named(history, TITLE) == [made]
            # The members are invited after the room is made (not in its creation, which the
            # alert DMs would wait for): soon after the DM, by the relay.
            wanted = (fire.user_id, leader.user_id)

            async def invited() -> bool:
                members = await history.members(made)
                return all(members.get(user) in ("invite", "join") for user in wanted)

            await until(invited, lambda: f"not everyone was invited to {made}", within=60)
            assert count(await history.messages(duty_room), sender=bot.user_id, contains="已启动") == 1
            alerts = [
                count(await history.messages(dm), sender=bot.user_id, contains=("E1", TITLE))
                for dm in (await history.one_to_one_rooms()).get(fire.user_id, [])
            ]
            assert alerts == [1], alerts
    finally:
        stop(process)
