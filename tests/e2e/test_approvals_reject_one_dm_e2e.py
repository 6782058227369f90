"""A rejection reaches the drafter as one DM (who, which step, why), through a real homeserver."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from records.clock import FrozenClock
from tests.e2e.conftest import MakeBot
from tests.support.chat_user import Received
from tests.support.fixtures import MakeUser

pytestmark = pytest.mark.e2e


async def test_a_rejection_is_one_dm_to_the_drafter(make_bot: MakeBot, make_user: MakeUser) -> None:
    clock = FrozenClock(datetime.now(UTC))
    bot = await make_bot(clock=clock, e2ee=False)
    alice = await make_user("alice")  # the drafter
    bob = await make_user("bob")
    carol = await make_user("carol")
    room = await alice.create_room(invite=[bot.user_id, bob.user_id, carol.user_id])
    for member in (bot.user_id, bob.user_id, carol.user_id):
        await alice.wait_for_member(room, member)

    mark = alice.mark()
    # A DM for alice that comes after the rejection's in her DM lane: once it is there,
    # everything the rejection sent her is there too.
    await alice.send_text(room, "!提醒 我 10分钟后 核对预算")
    await alice.wait_for_message(room, sender=bot.user_id, contains="已设提醒", since=mark)
    await alice.send_text(room, f"!审批 发起 关于防汛物资采购的请示 {bob.user_id} > {carol.user_id}")
    card = await alice.wait_for_message(room, sender=bot.user_id, contains="📝 审批 A", since=mark)
    code = (card.body or "").split("审批 ", 1)[1].split("：", 1)[0]

    await bob.send_text(room, f"!驳回 {code} 预算超标")
    await alice.wait_for_message(room, sender=bot.user_id, contains="❌ 已驳回", since=mark)
    clock.advance(timedelta(minutes=11))
    await bot.pump_timers()

    def in_dm(text: str) -> list[Received]:
        return [
            item
            for item in alice.received[mark:]
            if item.sender == bot.user_id
            and item.room_id != room
            and item.type == "m.room.message"
            and text in (item.body or "")
        ]

    await alice.wait_for(lambda item: item in in_dm("核对预算"), since=mark)
    rejections = in_dm("驳回")
    assert len(rejections) == 1, [r.body for r in rejections]
    body = rejections[0].body or ""
    bob_name = bob.user_id[1:].split(":", 1)[0]  # the homeserver's default display name
    assert f"您的审批 {code} 被 {bob_name} 驳回（第1步）" in body and "预算超标" in body
