"""The homeserver is down for over a minute while reminders and nags come due.

The relay used to give a message up after six tries (about 50 s) and mark it failed, with a
last log line still saying "will retry": a reminder due early in a 65 s outage never arrived.
Now everything that came due arrives once the homeserver is back, each exactly once, as the
homeserver's own room history shows.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
import pytest_asyncio

from records.clock import FrozenClock
from tests.e2e.conftest import MakeBot
from tests.support.chat_user import ChatUser
from tests.support.fixtures import MakeUser
from tests.support.synapse import start_test_homeserver
from zhiban.homeserver import LocalHomeserver

pytestmark = pytest.mark.e2e

# Longer than the old relay's ~50 s before it gave a message up.
DOWN_SECONDS = 70
# What came due during the outage must all be in the room by then (a guard, not a benchmark).
DELIVERED_WITHIN = 60.0


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def homeserver(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LocalHomeserver]:
    """A homeserver of this module's own, since the test stops it (the shared one stays up)."""
    hs = await start_test_homeserver(tmp_path_factory.mktemp("outage-homeserver"))
    try:
        yield hs
    finally:
        await hs.stop()


async def _history(hs: LocalHomeserver, reader: ChatUser, room_id: str) -> list[dict[str, Any]]:
    """The room's messages as the homeserver keeps them (newest last), read with `/messages`."""
    url = f"{hs.base_url}/_matrix/client/v3/rooms/{quote(room_id)}/messages"
    params = {"dir": "b", "limit": "500"}
    headers = {"Authorization": f"Bearer {reader.access_token}"}
    async with aiohttp.ClientSession() as http, http.get(url, params=params, headers=headers) as response:
        response.raise_for_status()
        chunk: list[dict[str, Any]] = (await response.json())["chunk"]
    return [event for event in reversed(chunk) if event.get("type") == "m.room.message"]


# What came due during the outage, told apart by its text.
EXPECTED: dict[str, Callable[[str], bool]] = {
    "the reminder": lambda body: body.startswith("⏰ 提醒") and "报送首报" in body,
    "the alarm": lambda body: body.startswith("🚨 闹钟") and "值班交接" in body and "再次提醒" not in body,
    "the alarm's nag": lambda body: body.startswith("🚨 闹钟") and "值班交接" in body and "再次提醒" in body,
}


def _count(messages: list[dict[str, Any]], sender: str, which: str) -> int:
    bodies = [str(e.get("content", {}).get("body", "")) for e in messages if e.get("sender") == sender]
    return sum(1 for body in bodies if EXPECTED[which](body))


async def test_what_comes_due_while_the_homeserver_is_down_arrives_exactly_once(
    homeserver: LocalHomeserver, make_bot: MakeBot, make_user: MakeUser
) -> None:
    clock = FrozenClock(datetime.now(UTC))
    bot = await make_bot(clock=clock, e2ee=False)
    alice = await make_user("alice")
    room = await alice.create_room(invite=[bot.user_id])
    await alice.wait_for_member(room, bot.user_id)
    for command in ("!提醒 本群 10分钟后 报送首报", "!alarm in 10 minutes 值班交接"):
        mark = alice.mark()
        await alice.send_text(room, command)
        await alice.wait_for_message(room, sender=bot.user_id, contains="时间：", since=mark)
    localpart = alice.user_id.split(":")[0].lstrip("@")
    await alice.stop()  # her client would give up while the server is away; she reads the history after

    await homeserver.stop()
    down_at = time.monotonic()
    await asyncio.sleep(5)
    # The reminder and the alarm come due 5 s into the outage: the worker's path writes them.
    clock.advance(timedelta(minutes=10))
    assert await bot.pump_timers() == 2
    await asyncio.sleep(20)
    clock.advance(timedelta(minutes=5))  # nobody can answer the alarm: it rings again (a nag)
    assert await bot.pump_timers() == 1
    await asyncio.sleep(DOWN_SECONDS - (time.monotonic() - down_at))
    await homeserver.start()
    back_at = time.monotonic()

    reader = await ChatUser.create(homeserver, localpart)
    try:
        while True:
            messages = await _history(homeserver, reader, room)
            if all(_count(messages, bot.user_id, which) for which in EXPECTED):
                break
            assert time.monotonic() - back_at < DELIVERED_WITHIN, [m["content"].get("body") for m in messages]
            await asyncio.sleep(0.5)
        print(f"all delivered {time.monotonic() - back_at:.1f}s after the homeserver was back")
        await asyncio.sleep(3)  # a second delivery, if any, would be in the history by now
        messages = await _history(homeserver, reader, room)
    finally:
        await reader.stop()
    for which in EXPECTED:
        assert _count(messages, bot.user_id, which) == 1, (which, [m["content"].get("body") for m in messages])
