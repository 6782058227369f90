"""`!全局` and `!待办` through a real homeserver: staff are refused without usage; a leader's card is
one message in their DM (asked in a shared room, the room is only told so: the card lists what
the asker may see, not what the room may), edited in place (m.replace of the card itself) when
asked again the same day, and the sign-in link to the board arrives by DM, never in the room."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from records.clock import FrozenClock
from tests.e2e.conftest import MakeBot
from tests.support.chat_user import Received
from tests.support.fixtures import MakeUser

pytestmark = pytest.mark.e2e


async def test_the_board_card_in_a_real_room(make_bot: MakeBot, make_user: MakeUser) -> None:
    clock = FrozenClock(datetime.now(UTC))
    alice = await make_user("alice")  # a leader
    eve = await make_user("eve")  # staff
    bot = await make_bot(clock=clock, e2ee=False, roles={"leader": [alice.user_id]})
    room = await alice.create_room(invite=[bot.user_id, eve.user_id])
    for member in (bot.user_id, eve.user_id):
        await alice.wait_for_member(room, member)

    mark = eve.mark()
    await eve.send_text(room, "!全局")
    refusal = await eve.wait_for_message(room, sender=bot.user_id, contains="全局看板只对", since=mark)
    assert "用法" not in (refusal.body or "")

    mark = alice.mark()
    await alice.send_text(room, f"!督办 整理防汛物资清单 {eve.user_id} 截止 明天")
    await alice.wait_for_message(room, sender=bot.user_id, contains="📌 督办", since=mark)
    await alice.send_text(room, "!全局")
    await alice.wait_for_message(room, sender=bot.user_id, contains="已通过私信把看板卡片发给您", since=mark)

    def dm_card(item: Received) -> bool:
        return item.sender == bot.user_id and item.room_id != room and (item.body or "").startswith("📊 全局")

    card = await alice.wait_for(dm_card, since=mark)
    assert "【督办】" in (card.body or "") and "整理防汛物资清单" in (card.body or "")

    def link_dm(item: Received) -> bool:
        return item.sender == bot.user_id and item.room_id != room and "/push/signin/" in (item.body or "")

    dm = await alice.wait_for(link_dm, since=mark)
    assert "?next=/board" in (dm.body or "")
    assert not [i for i in alice.received[mark:] if i.room_id == room and "/push/signin/" in (i.body or "")]

    clock.advance(timedelta(minutes=1))
    await alice.send_text(room, "!全局")

    def card_edit(item: Received) -> bool:
        relation = item.content.get("m.relates_to") or {}
        return relation.get("rel_type") == "m.replace" and relation.get("event_id") == card.event_id

    edit = await alice.wait_for(card_edit, since=mark)
    assert "📊 全局" in str((edit.content.get("m.new_content") or {}).get("body", ""))
    cards = [i for i in alice.received[mark:] if (i.body or "").startswith("📊 全局")]
    assert [c.room_id for c in cards] == [card.room_id], [c.body for c in cards]

    mark = eve.mark()
    await eve.send_text(room, "!待办")

    def my_card(item: Received) -> bool:
        return item.sender == bot.user_id and item.room_id != room and "📋 我的待办" in (item.body or "")

    mine = await eve.wait_for(my_card, since=mark)
    assert "整理防汛物资清单" in (mine.body or "")
    assert not [i for i in alice.received if i.room_id == room and (i.body or "").startswith(("📊", "📋"))]
