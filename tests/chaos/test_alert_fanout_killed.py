"""The bot is SIGKILLed halfway through an incident's alert fan-out to twelve responders.

After the restart every responder has exactly one alert DM, in exactly one DM room, as the
homeserver's rooms show (read through a fresh login of the bot's account, every one-to-one
room it is in, whether or not its `m.direct` knows it).

The window is made certain by a hook in the first bot process: the third alert is accepted by
the homeserver and then its send hangs, so the bot never notes it as sent (a resend must be
deduplicated by its transaction id, not delivered twice), and every alert not yet on its way by
then hangs before it reaches the homeserver (it must be sent after the restart). The test kills
the process at that point. The DM rooms themselves were made before (the bot greets the people
its config names), and each responder must still have one only.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import MakeBot
from tests.support.fixtures import MakeUser
from tests.support.processes import History, count, kill, spawn_bot, stop, until, wait_for_marker
from zhiban.local.homeserver import LocalHomeserver

pytestmark = pytest.mark.e2e

RESPONDERS = 12  # more than the relay sends at once (8)
TITLE = "城西山洪"
ALERT = "请立即加入"  # in the declaration's alert DM only

HANG_MID_FANOUT = """
import asyncio, nio
_send = nio.AsyncClient.room_send
_alerts = []

async def room_send(self, room_id, message_type, content, *args, **kwargs):
    alert = "请立即加入" in str(content.get("body", ""))
    if alert and len(_alerts) >= 3:
        await asyncio.Event().wait()  # never reaches the homeserver
    response = await _send(self, room_id, message_type, content, *args, **kwargs)
    if alert and getattr(response, "event_id", None):
        _alerts.append(room_id)
        if len(_alerts) == 3:
            await hang(room_id)  # at the homeserver, never noted as sent
    return response

nio.AsyncClient.room_send = room_send
"""


async def _alerts_per_responder(history: History, responders: list[str], bot_id: str) -> dict[str, list[int]]:
    """Per responder, the number of alerts in each one-to-one room the bot shares with them."""
    rooms = await history.one_to_one_rooms()
    found: dict[str, list[int]] = {}
    for person in responders:
        found[person] = [
            count(await history.messages(room), sender=bot_id, contains=(ALERT, TITLE))
            for room in rooms.get(person, [])
        ]
    return found


async def test_a_bot_killed_mid_fanout_alerts_every_responder_once(
    homeserver: LocalHomeserver, make_bot: MakeBot, make_user: MakeUser, tmp_path: Path
) -> None:
    officer = await make_user("officer")
    # Responders need no client of their own: what they were sent is read from the bot's rooms.
    responders = [
        await homeserver.register(f"responder-{n}-{secrets.token_hex(3)}", secrets.token_hex(8))
        for n in range(RESPONDERS)
    ]
    bot = await make_bot(
        stepup={"incident_declare": False},  # grade Ⅱ without the phone's confirmation here
        start=False,
        e2ee=False,
        roles={"duty_officer": [officer.user_id]},
        emergency={"responders": [{"classes": ["自然灾害"], "users": responders}]},
    )
    marker = tmp_path / "fanout-half-done"
    log_path = tmp_path / "bot.log"
    process = spawn_bot(bot.config_path, hook=HANG_MID_FANOUT, marker=marker, log_path=log_path)
    try:
        duty_room = await officer.create_room(invite=[bot.user_id])
        await officer.wait_for_member(duty_room, bot.user_id, timeout=60)
        await officer.send_text(duty_room, f"!应急 启动 Ⅱ 自然灾害 {TITLE}")
        await wait_for_marker(marker, process, log_path=log_path)
        kill(process)
        killed_at = time.monotonic()
        process = spawn_bot(bot.config_path, log_path=log_path)

        password = bot.settings.matrix.password
        async with History.login(homeserver.base_url, bot.user_id, password) as history:
            found: dict[str, Any] = {}

            async def everyone_alerted() -> bool:
                found.update(await _alerts_per_responder(history, responders, bot.user_id))
                return all(sum(per_room) for per_room in found.values())

            await until(everyone_alerted, lambda: f"not every responder was alerted: {found}", within=120)
            print(f"every responder alerted {time.monotonic() - killed_at:.1f}s after the kill")
            await asyncio.sleep(3)  # a second alert or DM room, if any, would be there by now
            found = await _alerts_per_responder(history, responders, bot.user_id)
        assert found == {person: [1] for person in responders}, found
    finally:
        stop(process)
