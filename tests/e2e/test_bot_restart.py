"""Killed and restarted mid-conversation: nothing lost, nothing handled twice."""

from __future__ import annotations

import asyncio

import pytest

from tests.e2e.conftest import MakeBot
from tests.support.fixtures import MakeUser

pytestmark = pytest.mark.e2e


async def test_kill_and_restart_loses_nothing_and_repeats_nothing(make_bot: MakeBot, make_user: MakeUser) -> None:
    bot = await make_bot(start=False, e2ee=False)
    bot.spawn()
    alice = await make_user("alice")
    room = await alice.create_room(invite=[bot.user_id])
    await alice.wait_for_member(room, bot.user_id, timeout=60)
    start = alice.mark()
    await alice.send_text(room, "!tz Europe/London")
    await alice.wait_for_message(room, sender=bot.user_id, contains="Europe/London", since=start, timeout=60)

    bot.kill()
    # While the bot is down, the conversation goes on.
    for zone in ("Asia/Tokyo", "America/New_York", "Asia/Shanghai"):
        await alice.send_text(room, f"!tz {zone}")
    bot.spawn()
    for zone in ("Asia/Tokyo", "America/New_York", "Asia/Shanghai"):
        await alice.wait_for_message(room, sender=bot.user_id, contains=f"设为 {zone}", since=start, timeout=90)

    # A second restart replays nothing that was already answered.
    bot.terminate()
    bot.spawn()
    probe = alice.mark()
    await alice.send_text(room, "!ping")
    await alice.wait_for_message(room, sender=bot.user_id, contains="在线", since=probe, timeout=90)
    await asyncio.sleep(1.0)  # let any (wrong) duplicate arrive before counting
    bot.terminate()
    replies = [
        e.body or ""
        for e in alice.received[start:]
        if e.room_id == room and e.sender == bot.user_id and e.type == "m.room.message"
    ]
    for zone in ("Europe/London", "Asia/Tokyo", "America/New_York", "Asia/Shanghai"):
        assert sum(f"设为 {zone}" in body for body in replies) == 1, replies
    assert sum("在线" in body for body in replies) == 1, replies
