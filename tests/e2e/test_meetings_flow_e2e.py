"""Meetings in chat, the harder paths: bad input, the wizard, a conflict confirmed with ✅,
another room's meeting, an action item that becomes a task, thread minutes, and the end."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from records.clock import FrozenClock
from tests.e2e.conftest import MakeBot
from tests.support.fixtures import MakeUser
from timeparse import parse_when

pytestmark = pytest.mark.e2e


async def test_wizard_conflict_action_minutes_and_end(make_bot: MakeBot, make_user: MakeUser) -> None:
    clock = FrozenClock(datetime.now(UTC))
    bot = await make_bot(clock=clock, e2ee=False, meetings={"places": {"三楼会议室": 10, "301": 6}})
    alice = await make_user("alice")
    bob = await make_user("bob")
    room = await alice.create_room(invite=[bot.user_id, bob.user_id])
    for member in (bot.user_id, bob.user_id):
        await alice.wait_for_member(room, member)
    mark = alice.mark()

    # Bad input: a past time, an unknown place.
    await alice.send_text(room, f"!meeting new 周会 yesterday 3pm {bob.user_id}")
    await alice.wait_for_message(room, sender=bot.user_id, contains="已经过去", since=mark)
    await alice.send_text(room, f"!会议 周会 明天 10点 在 五楼 {bob.user_id}")
    await alice.wait_for_message(room, sender=bot.user_id, contains="没有“五楼”", since=mark)

    # The wizard asks for the time, then the place.
    await alice.send_text(room, f"!会议 发起 周会 {bob.user_id}")
    await alice.wait_for_message(room, sender=bot.user_id, contains="什么时间开", since=mark)
    await alice.send_text(room, "明天上午10点")
    await alice.wait_for_message(room, sender=bot.user_id, contains="在哪里开", since=mark)
    await alice.send_text(room, "三楼会议室")
    created = await alice.wait_for_message(room, sender=bot.user_id, contains="已发起会议", since=mark)
    code = re.search(r"M\d+", created.body or "").group(0)  # type: ignore[union-attr]
    starts = parse_when("明天上午10点", now=clock.now(), tz="Asia/Shanghai").at
    card = await alice.wait_for_message(room, sender=bot.user_id, contains=f"会议通知 {code}", since=mark)

    # Same place, same time: a warning first, scheduled after ✅.
    again = alice.mark()
    await alice.send_text(room, f"!会议 专题会 明天上午10点 在 三楼会议室 {bob.user_id}")
    warning = await alice.wait_for_message(room, sender=bot.user_id, contains="冲突", since=again)
    # The clash names bob (a pill in the HTML), never his raw id.
    assert code in (warning.body or "") and bob.user_id not in (warning.body or "")
    assert f"https://matrix.to/#/{bob.user_id}" in warning.content.get("formatted_body", "")
    await alice.react(room, warning.event_id, "✅")
    await alice.wait_for_message(room, sender=bot.user_id, contains="已发起会议", since=again)

    # A meeting is handled in its own room (or a DM with the bot), not in another group room.
    other = await alice.create_room(invite=[bot.user_id, bob.user_id])
    for member in (bot.user_id, bob.user_id):
        await alice.wait_for_member(other, member)
    await alice.send_text(other, f"!meeting cancel {code}")
    await alice.wait_for_message(other, sender=bot.user_id, contains="不是在本群发起的", since=again)

    # An action item becomes a supervised task.
    await alice.send_text(room, f"!action {code} {bob.user_id} 报送汛情简报 by 3天后")
    action = await alice.wait_for_message(room, sender=bot.user_id, contains="议定事项已交办", since=again)
    assert "督办事项 T" in (action.body or "")

    # During the meeting, Bob's words in the card's thread become the minutes.
    clock.set(starts + timedelta(minutes=5))
    # A file in the thread is not a line of the minutes: its body is only its name.
    mxc, _ = await bob.upload(b"%PDF-1.4", mimetype="application/pdf", filename="汛情简报附件.pdf", encrypt=False)
    in_thread = {"rel_type": "m.thread", "event_id": card.event_id}
    attachment = {"msgtype": "m.file", "body": "汛情简报附件.pdf", "url": mxc, "m.relates_to": in_thread}
    await bob.send(room, "m.room.message", attachment)
    await bob.send_text(room, "水位平稳，继续加强巡查", thread_root=card.event_id)

    def noted(item) -> bool:  # type: ignore[no-untyped-def]
        relates = item.content.get("m.relates_to", {})
        return item.sender == bot.user_id and item.type == "m.reaction" and relates.get("key") == "📝"

    await alice.wait_for(noted, since=again)
    await bob.send_text(room, f"!meeting end {code}")
    await alice.wait_for_message(room, sender=bot.user_id, contains="只有会议", since=again)
    await alice.send_text(room, f"!meeting end {code}")
    ended = await alice.wait_for_message(room, sender=bot.user_id, contains="会议纪要", since=again)
    body = ended.body or ""
    assert "水位平稳，继续加强巡查" in body and "报送汛情简报" in body and f"**缺席**：{bob.user_id}" in body
    assert "汛情简报附件.pdf" not in body
