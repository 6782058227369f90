"""Reminders as users meet them: set in chat, fired after a restart and a Redis flush, alarms silenced by ✅."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
import redis

from records.clock import FrozenClock
from tests.e2e.conftest import MakeBot
from tests.support.fixtures import MakeUser

pytestmark = pytest.mark.e2e


async def test_reminder_survives_restart_and_redis_flush(
    make_bot: MakeBot, make_user: MakeUser, redis_url: str
) -> None:
    clock = FrozenClock(datetime.now(UTC))
    bot = await make_bot(clock=clock, e2ee=False)
    alice = await make_user("alice")
    room = await alice.create_room(invite=[bot.user_id])
    await alice.wait_for_member(room, bot.user_id)
    mark = alice.mark()
    await alice.send_text(room, "!提醒 本群 30分钟后 提交周报")
    echo = await alice.wait_for_message(room, sender=bot.user_id, contains="提醒时间", since=mark)
    assert "提交周报" in (echo.body or "") and "R" in (echo.body or "")

    await bot.stop()
    redis.Redis.from_url(redis_url).flushdb()
    await bot.start()

    clock.advance(timedelta(minutes=29))
    assert await bot.pump_timers() == 0
    clock.advance(timedelta(minutes=1))
    assert await bot.pump_timers() == 1
    fired = await alice.wait_for_message(room, sender=bot.user_id, contains="⏰ 提醒", since=mark)
    assert "提交周报" in (fired.body or "")
    assert alice.user_id in fired.content["m.mentions"]["user_ids"]


async def test_alarm_rings_until_a_check_mark(make_bot: MakeBot, make_user: MakeUser) -> None:
    clock = FrozenClock(datetime.now(UTC))
    bot = await make_bot(clock=clock, e2ee=False)
    alice = await make_user("alice")
    room = await alice.create_room(invite=[bot.user_id])
    await alice.wait_for_member(room, bot.user_id)
    mark = alice.mark()
    await alice.send_text(room, "!alarm in 10 minutes 值班交接")
    await alice.wait_for_message(room, sender=bot.user_id, contains="响铃时间", since=mark)

    # Marks are taken before the action that causes what they wait for, so a fast reply
    # can never land before its mark and be missed.
    ring_mark = alice.mark()
    clock.advance(timedelta(minutes=10))
    await bot.pump_timers()
    first = await alice.wait_for_message(room, sender=bot.user_id, contains="🚨 闹钟", since=ring_mark)
    again_mark = alice.mark()
    clock.advance(timedelta(minutes=5))
    await bot.pump_timers()
    again = await alice.wait_for_message(room, sender=bot.user_id, contains="再次提醒", since=again_mark)

    ack_mark = alice.mark()
    await alice.react(room, again.event_id, "✅")
    await alice.wait_for_message(room, sender=bot.user_id, contains="已由", since=ack_mark)
    clock.advance(timedelta(minutes=30))
    assert await bot.pump_timers() == 0
    await asyncio.sleep(0.5)  # let a (wrong) extra ring arrive before counting
    rings = [e for e in alice.received[ack_mark:] if e.sender == bot.user_id and "🚨" in (e.body or "")]
    assert rings == []
    assert first.event_id != again.event_id
