"""A meeting as people meet it: scheduled in Chinese, answered by reactions (room card and DM),
reminded after a restart and a Redis flush, then signed in with the posted code."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import redis

from records.clock import FrozenClock
from tests.e2e.conftest import MakeBot
from tests.support.fixtures import MakeUser
from timeparse import parse_when

pytestmark = pytest.mark.e2e


async def test_meeting_notice_rsvp_reminder_and_sign_in(make_bot: MakeBot, make_user: MakeUser, redis_url: str) -> None:
    clock = FrozenClock(datetime.now(UTC))
    bot = await make_bot(clock=clock, e2ee=False, meetings={"places": {"三楼会议室": 10}})
    alice = await make_user("alice")  # the organizer
    bob = await make_user("bob")
    carol = await make_user("carol")
    room = await alice.create_room(invite=[bot.user_id, bob.user_id, carol.user_id])
    for member in (bot.user_id, bob.user_id, carol.user_id):
        await alice.wait_for_member(room, member)

    mark, bob_mark, carol_mark = alice.mark(), bob.mark(), carol.mark()
    await alice.send_text(room, f"!会议 防汛会商 明天下午3点 在 三楼 {bob.user_id} {carol.user_id}")
    card = await alice.wait_for_message(room, sender=bot.user_id, contains="📅 会议通知 M", since=mark)
    reply = await alice.wait_for_message(room, sender=bot.user_id, contains="会议时间：", since=mark)
    starts = parse_when("明天下午3点", now=clock.now(), tz="Asia/Shanghai").at
    code = re.search(r"M\d+", card.body or "").group(0)  # type: ignore[union-attr]
    assert "三楼会议室" in (card.body or "") and "⏳ 未回复 2" in (card.body or "")
    assert "15:00" in (reply.body or "")

    # ✅ on the room card: the card is edited with the new tally.
    await bob.react(room, card.event_id, "✅")
    await alice.wait_for_message(room, sender=bot.user_id, contains="✅ 参加 1", since=mark)

    # ❌ on the DM notice: counted at once, then the reason is asked for in the DM.
    def carol_notice(item) -> bool:  # type: ignore[no-untyped-def]
        return item.sender == bot.user_id and item.room_id != room and "请回应" in (item.body or "")

    notice = await carol.wait_for(carol_notice, since=carol_mark)
    await carol.react(notice.room_id, notice.event_id, "❌")
    await carol.wait_for_message(notice.room_id, sender=bot.user_id, contains="请假原因", since=carol_mark)
    await carol.send_text(notice.room_id, "出差")
    await carol.wait_for_message(notice.room_id, sender=bot.user_id, contains="已记录", since=carol_mark)
    await alice.wait_for_message(room, sender=bot.user_id, contains="（出差）", since=mark)

    # A restart and a Redis flush lose nothing: the one-hour reminder reaches Bob, not Carol.
    await bot.stop()
    redis.Redis.from_url(redis_url).flushdb()
    await bot.start()
    clock.set(starts - timedelta(minutes=60))
    assert await bot.pump_timers() >= 1

    def reminder(item) -> bool:  # type: ignore[no-untyped-def]
        return item.sender == bot.user_id and "⏰ 会议提醒" in (item.body or "")

    got = await bob.wait_for(reminder, since=bob_mark)
    assert code in (got.body or "")
    assert not any(reminder(item) for item in carol.received)

    # Sign-in: the code appears in the room when the window opens; a wrong code is refused.
    clock.set(starts - timedelta(minutes=15))
    await bot.pump_timers()
    posted = await alice.wait_for_message(room, sender=bot.user_id, contains="签到码", since=mark)
    pin = re.search(r"签到码：(\d{4})", posted.body or "").group(1)  # type: ignore[union-attr]
    wrong = "0000" if pin != "0000" else "1111"
    await bob.send_text(room, f"!签到 {code} {wrong}")
    await bob.wait_for_message(room, sender=bot.user_id, contains="签到码不对", since=bob_mark)
    await bob.send_text(room, f"!签到 {code} {pin}")
    await bob.wait_for_message(room, sender=bot.user_id, contains="已签到", since=bob_mark)
