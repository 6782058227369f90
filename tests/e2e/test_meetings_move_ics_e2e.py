"""Against Synapse: a move onto a busy slot warns the organizer; `!会议 日历` posts an .ics file."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from records.clock import FrozenClock
from tests.e2e.conftest import MakeBot
from tests.support.fixtures import MakeUser

pytestmark = pytest.mark.e2e


async def test_move_warns_of_clashes_and_ics_is_an_uploaded_file(make_bot: MakeBot, make_user: MakeUser) -> None:
    clock = FrozenClock(datetime.now(UTC))
    bot = await make_bot(clock=clock, e2ee=False, meetings={"places": {"三楼会议室": 10, "301": 6}})
    alice = await make_user("alice")
    bob = await make_user("bob")
    room = await alice.create_room(invite=[bot.user_id, bob.user_id])
    for member in (bot.user_id, bob.user_id):
        await alice.wait_for_member(room, member)
    mark = alice.mark()
    codes = []
    for text in ("周会 明天上午10点 在 三楼会议室", "专题会 明天下午3点 在 301"):
        await alice.send_text(room, f"!会议 {text} {bob.user_id}")
        created = await alice.wait_for_message(room, sender=bot.user_id, contains="已发起会议", since=mark)
        codes.append(re.search(r"M\d+", created.body or "").group(0))  # type: ignore[union-attr]
        mark = alice.mark()

    await alice.send_text(room, f"!会议 改期 {codes[1]} 明天上午10点")
    moved = await alice.wait_for_message(room, sender=bot.user_id, contains="已改期", since=mark)
    assert "冲突" in (moved.body or "") and codes[0] in (moved.body or "") and bob.user_id not in (moved.body or "")
    assert f"https://matrix.to/#/{bob.user_id}" in moved.content.get("formatted_body", "")

    await alice.send_text(room, f"!会议 日历 {codes[0]}")
    sent = await alice.wait_for_message(room, sender=bot.user_id, contains=f"{codes[0]}.ics", since=mark)
    assert sent.content["msgtype"] == "m.file"
    assert sent.content["url"].startswith("mxc://")
    assert sent.content["info"]["mimetype"] == "text/calendar" and sent.content["info"]["size"] > 0
