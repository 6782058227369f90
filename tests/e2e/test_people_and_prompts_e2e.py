"""Through a real Synapse: nobody is invited who does not exist, and a reason is a reply to its question.

The room's members and the homeserver's accounts are what the bot really knows: `@nobody-xyz`
is refused by name before a meeting or a task exists (no notice, no "1 person notified"),
bob's localpart typed by hand is the member bob. In a group, Bob's next message after the bot asks for
his leave reason is not the reason unless it replies to the question.
"""

from __future__ import annotations

import asyncio
import re

import pytest
from sqlalchemy import func, select

from commands.meetings.models import Attendee, Meeting
from commands.tasks.models import Task
from records.db import Database
from tests.e2e.conftest import MakeBot
from tests.support.fixtures import MakeUser

pytestmark = pytest.mark.e2e


async def test_unknown_people_are_refused_and_a_leave_reason_is_a_reply(make_bot: MakeBot, make_user: MakeUser) -> None:
    bot = await make_bot(e2ee=False)
    alice = await make_user("alice")
    bob = await make_user("bob")
    room = await alice.create_room(invite=[bot.user_id, bob.user_id])
    for member in (bot.user_id, bob.user_id):
        await alice.wait_for_member(room, member)

    mark = alice.mark()
    await alice.send_text(room, "!会议 安全例会 明天下午3点 @nobody-xyz")
    await alice.wait_for_message(room, sender=bot.user_id, contains="找不到用户 @nobody-xyz", since=mark)
    probe = alice.mark()
    await alice.send_text(room, "!督办 排查隐患 @nobody-xyz 截止 明天")
    await alice.wait_for_message(room, sender=bot.user_id, contains="找不到用户 @nobody-xyz", since=probe)

    # Bob by his localpart typed by hand: the one person notified.
    probe = alice.mark()
    await alice.send_text(room, f"!会议 安全例会 明天下午3点 @{bob.user_id[1:].split(':')[0]}")
    await alice.wait_for_message(room, sender=bot.user_id, contains="已通知 1 人", since=probe)
    card = await alice.wait_for_message(room, sender=bot.user_id, contains="📅 会议通知 M", since=probe)
    code = re.search(r"M\d+", card.body or "").group(0)  # type: ignore[union-attr]
    # bob by name (the homeserver's default one), as a pill in the HTML.
    assert bob.user_id[1:].split(":", 1)[0] in (card.body or "") and bob.user_id not in (card.body or "")
    assert f'<a href="https://matrix.to/#/{bob.user_id}">' in card.content["formatted_body"]

    # In the group, Bob's chatter after the question is left alone; his reply to it is the reason.
    bob_mark = bob.mark()
    await bob.send_text(room, f"!请假 {code}")
    question = await bob.wait_for_message(room, sender=bot.user_id, contains="请假原因", since=bob_mark)
    await bob.send_text(room, "大家中午一起吃饭吗")
    await bob.send_text(room, "出差在外", reply_to=question.event_id)
    await bob.wait_for_message(room, sender=bot.user_id, contains="请假原因已记录", since=bob_mark)
    await asyncio.sleep(0.5)  # a wrong second answer would arrive by now

    db = Database(bot.settings.database_url)
    try:
        async with db.reading() as session:
            meetings = list(await session.scalars(select(Meeting)))
            tasks = await session.scalar(select(func.count()).select_from(Task))
            reason = await session.scalar(select(Attendee.reason).where(Attendee.user_id == bob.user_id))
    finally:
        await db.dispose()
    assert [m.code for m in meetings] == [code]  # the refused one was never made
    assert tasks == 0
    assert reason == "出差在外"
