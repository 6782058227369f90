"""Absurd or hostile input through the real dispatcher: each gets a short bilingual answer.

Counts beyond the horizon (200000个工作日内, 999999999天后, the year 9999), zones that are not
zones, and parses that run out of time used to stall the bot, overflow the calendar ("处理时
出错了") or crash; deadlines counted into a year without holiday data were silently counted
Monday–Friday. Times are judged by what the user reads, never by a stopwatch.
"""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.errors import UserFacingError
from bot.offloop import off_loop_limited
from commands.tasks.models import Reminder, Task
from records.clock import FrozenClock
from records.db import Database
from tests.support.dispatch_chat import DispatchChat
from timeparse import budget

T0 = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)  # Thursday 10:00 in Shanghai; 2027's holidays unknown
ROOM = "!office:localhost"
BOSS = "@boss:localhost"
LEAD = "@lead:localhost"
INTERNAL = "处理时出错了"


def _refused(body: str, *parts: str) -> None:
    assert body.startswith("⚠️"), body
    assert INTERNAL not in body and "Traceback" not in body, body
    for part in parts:
        assert part in body, body


async def _counts(db: Database) -> tuple[int, int]:
    async with db.reading() as session:
        tasks = await session.scalar(select(func.count()).select_from(Task))
        reminders = await session.scalar(select(func.count()).select_from(Reminder))
    return int(tasks or 0), int(reminders or 0)


async def test_counts_beyond_the_horizon_are_refused_in_both_languages(db: Database) -> None:
    chat = DispatchChat(db, FrozenClock(T0), room=ROOM)
    # Counted day by day for 15 seconds, then a reminder in the year 2800.
    _refused(await chat.reply_to(BOSS, "!提醒 我 200000个工作日内 交材料"), "太远", "10 年", "!提醒 我|本群")
    _refused(await chat.reply_to(BOSS, "!提醒 我 99999999个工作日内 交材料"), "太远")
    # Overflowed the calendar: "处理时出错了".
    _refused(await chat.reply_to(BOSS, "!提醒 我 999999999天后 x"), "太远", "999999999天后")
    _refused(await chat.reply_to(BOSS, f"!督办 写报告 {LEAD} 截止 999999999天后"), "太远", "!督办 <事项>")
    _refused(await chat.reply_to(BOSS, "!提醒 我 9999年12月31日 交材料"), "太远")
    await chat.say(LEAD, "!lang en")
    _refused(await chat.reply_to(LEAD, "!remind me in 99999999999 days call"), "too far", "10 years")
    assert await _counts(db) == (0, 0)


async def test_time_zones_that_are_not_zones_are_refused(db: Database) -> None:
    chat = DispatchChat(db, FrozenClock(T0), room=ROOM)
    # "Asia" is a directory of zone files: IsADirectoryError reached the user as an apology.
    _refused(await chat.reply_to(BOSS, "!时区 Asia"), "不认识的时区", "Asia")
    _refused(await chat.reply_to(BOSS, "!时区 " + "A" * 300), "不认识的时区")
    _refused(await chat.reply_to(BOSS, "!时区 ../../etc/passwd"), "不认识的时区")
    assert "Asia/Shanghai" in await chat.reply_to(BOSS, "!时区")


async def test_the_duty_roster_refuses_the_year_9999(db: Database) -> None:
    chat = DispatchChat(
        db,
        FrozenClock(T0),
        room=ROOM,
        roles={"duty_leader": [BOSS]},
    )
    body = await chat.reply_to(BOSS, f"!值班 设置 9999年12月31日 带班 {BOSS} 值班员 {LEAD}")
    _refused(body, "太远", "!值班")


async def test_working_days_counted_into_an_unknown_year_say_so(db: Database) -> None:
    chat = DispatchChat(db, FrozenClock(T0), room=ROOM)
    body = await chat.reply_to(BOSS, "!提醒 我 30个工作日后 交材料")
    assert body.startswith("⏰ 已设提醒"), body
    assert "2027年的法定节假日安排尚未收录" in body, body
    card = await chat.reply_to(BOSS, f"!督办 写报告 {LEAD} 截止 30个工作日")
    assert "2027年的法定节假日安排尚未收录" in card, card
    # Within the known year, nothing to say.
    body = await chat.reply_to(BOSS, "!提醒 我 3个工作日后 交材料")
    assert "法定节假日" not in body, body
    await chat.say(BOSS, "!lang en")
    body = await chat.reply_to(BOSS, "!remind me 30个工作日后 file the report")
    assert "holidays of 2027 are not known yet" in body, body


async def test_a_parse_out_of_time_is_answered_as_too_complex(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    chat = DispatchChat(db, FrozenClock(T0), room=ROOM)
    monkeypatch.setattr(budget, "PARSE_SECONDS", -1.0)  # every parse is already past its limit
    _refused(await chat.reply_to(BOSS, "!提醒 我 明天下午3点 交材料"), "太复杂", "简化")
    _refused(await chat.reply_to(BOSS, "!会议 新建 防汛会商 明天下午3点"), "太复杂")
    _refused(await chat.reply_to(BOSS, f"!督办 写报告 {LEAD} 截止 周五"), "太复杂")
    assert await _counts(db) == (0, 0)


async def test_an_approval_chain_out_of_time_is_answered_as_too_complex(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The chain's parser expects only its own errors: the time limit reaches the bot's error
    # middleware, which must still answer it as the sender's mistake, in their language.
    chat = DispatchChat(db, FrozenClock(T0), room=ROOM)
    monkeypatch.setattr(budget, "PARSE_SECONDS", -1.0)
    _refused(await chat.reply_to(BOSS, f"!审批 发起 请示 {LEAD}"), "太复杂", "简化")
    await chat.say(BOSS, "!lang en")
    _refused(await chat.reply_to(BOSS, f"!approval new request {LEAD}"), "too long or too convoluted")


async def test_off_loop_keeps_the_event_loop_free_and_answers_a_slow_call() -> None:
    ticks = 0
    stop = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            await asyncio.sleep(0.01)

    running = asyncio.create_task(ticker())
    with pytest.raises(UserFacingError) as info:
        await off_loop_limited(0.2, time.sleep, 1.0)
    stop.set()
    await running
    assert info.value.key == "error.too_complex"
    assert ticks > 1  # the loop kept serving others while the call ran in its thread


async def test_a_slow_parse_does_not_hold_up_other_rooms(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    if db.is_sqlite:
        pytest.skip("SQLite has one write lock: the second event waits for the first's transaction anyway")
    from commands.tasks import parsing

    started, finished = threading.Event(), threading.Event()
    real = parsing.parse_new_task

    def slow(*args: Any, **kwargs: Any) -> Any:
        started.set()
        time.sleep(1.5)  # a parse at its worst (within the limits)
        finished.set()
        return real(*args, **kwargs)

    monkeypatch.setattr(parsing, "parse_new_task", slow)
    chat = DispatchChat(db, FrozenClock(T0), room=ROOM)
    first = asyncio.create_task(chat.say(BOSS, f"!督办 写报告 {LEAD} 截止 周五"))
    assert await asyncio.to_thread(started.wait, 30)
    pong = await chat.reply_to(LEAD, "!在吗", "!other:localhost")
    assert "在线" in pong
    # The other room got its answer while the task was still being read (on the event loop,
    # the parse would have held everything up until it finished).
    assert not finished.is_set()
    replies = await first
    assert any("督办 T" in str(r.content.get("body")) for r in replies)
