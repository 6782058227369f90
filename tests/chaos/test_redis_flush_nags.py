"""Redis is flushed while nags are queued, and again under a running worker; each nag arrives once.

An incident is open with its 首报 clock, an order waits for a responder's acknowledgement and
an alarm is set. Their timers come due (moved to now: the test does not wait out the real
minutes), a pump hands them to Redis, and Redis loses everything before any worker ran them. A
worker started as the README says (`zhiban worker --config FILE`) finds them again once their
short claims lapse. Then, with that worker running, Redis is flushed again and the next round
of nags (the alarm ringing again, the order's second nag) comes due: the worker, whose own
registrations in Redis are gone too, still runs each exactly once. Everything is counted from
the homeserver's history (`/messages`, read through a fresh login of the bot's account).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
import redis
from rq import Queue

from records.clock import SystemClock
from records.db import Database
from tests.e2e.conftest import MakeBot
from tests.support.due import come_due, incident_room
from tests.support.fixtures import MakeUser
from tests.support.processes import History, count, spawn_worker, stop, until
from zhiban.local.homeserver import LocalHomeserver
from zhiban.worker import timer_pump

pytestmark = pytest.mark.e2e

FIRST_ROUND = ("emergency.report_remind", "emergency.order_nag", "reminder.fire")
SECOND_ROUND = ("emergency.order_nag", "reminder.nag")


async def test_nags_queued_when_redis_is_flushed_arrive_exactly_once(
    homeserver: LocalHomeserver, make_bot: MakeBot, make_user: MakeUser, redis_url: str, tmp_path: Path
) -> None:
    officer = await make_user("officer")
    fire = await homeserver.register(f"fire-{secrets.token_hex(3)}", secrets.token_hex(8))
    bot = await make_bot(
        stepup={"incident_declare": False},  # grade Ⅱ without the phone's confirmation here
        e2ee=False,
        roles={"duty_officer": [officer.user_id]},
        emergency={"responders": [{"classes": ["自然灾害"], "users": [fire]}]},
    )
    duty_room = await officer.create_room(invite=[bot.user_id])
    await officer.wait_for_member(duty_room, bot.user_id)
    for command, answer in (
        ("!应急 启动 Ⅱ 自然灾害 城东内涝", "已启动"),
        ("!alarm in 10 minutes 值班交接", "时间："),
    ):
        mark = officer.mark()
        await officer.send_text(duty_room, command)
        await officer.wait_for_message(duty_room, sender=bot.user_id, contains=answer, since=mark)
    room = await incident_room(bot.settings.database_url)
    await officer.wait_for_room(room)
    mark = officer.mark()
    await officer.send_text(room, f"!指令 {fire} 到城东泵站集合")
    await officer.wait_for_message(room, sender=bot.user_id, contains="确认 0/1", since=mark)

    # The first round comes due; a pump hands it to Redis, and Redis loses it.
    assert await come_due(bot.settings.database_url, FIRST_ROUND) == len(FIRST_ROUND)
    connection = redis.Redis.from_url(redis_url)
    queue = Queue(bot.settings.redis.queue, connection=connection)
    db = Database(bot.settings.database_url)
    try:
        assert await timer_pump(bot.settings, db, queue, SystemClock()).pump_once() >= len(FIRST_ROUND)
    finally:
        await db.dispose()
    connection.flushdb()
    flushed_at = time.monotonic()
    worker = spawn_worker(bot.config_path, cwd=tmp_path, log_path=tmp_path / "worker.log")
    try:
        async with History.login(homeserver.base_url, bot.user_id, bot.settings.matrix.password) as history:
            seen: dict[str, int] = {}

            async def tally() -> dict[str, int]:
                fire_dm = (await history.one_to_one_rooms()).get(fire, [])
                nags = 0
                for dm in fire_dm:
                    nags += count(await history.messages(dm), sender=bot.user_id, contains="尚未确认")
                in_duty_room = await history.messages(duty_room)
                seen.update(
                    {
                        "首报 reminder": count(await history.messages(room), sender=bot.user_id, contains="⏰ E1 首报"),
                        "order nags": nags,
                        "alarm": count(
                            in_duty_room, sender=bot.user_id, contains="值班交接", where=_alarm_rings(again=False)
                        ),
                        "alarm again": count(
                            in_duty_room, sender=bot.user_id, contains="值班交接", where=_alarm_rings(again=True)
                        ),
                    }
                )
                return dict(seen)

            first = {"首报 reminder": 1, "order nags": 1, "alarm": 1, "alarm again": 0}
            await until(_reaches(tally, first), lambda: f"the first round never all arrived: {seen}", within=120)
            print(f"first round delivered {time.monotonic() - flushed_at:.1f}s after Redis was flushed")

            # With the worker running, Redis is flushed again; then the next nags come due.
            connection.flushdb()
            assert await come_due(bot.settings.database_url, SECOND_ROUND) == len(SECOND_ROUND)
            flushed_at = time.monotonic()
            second = {"首报 reminder": 1, "order nags": 2, "alarm": 1, "alarm again": 1}
            await until(_reaches(tally, second), lambda: f"the second round never all arrived: {seen}", within=120)
            print(f"second round delivered {time.monotonic() - flushed_at:.1f}s after the flush under the worker")
            await asyncio.sleep(3)  # a second copy, if any, would be in the history by now
            assert await tally() == second
        assert worker.poll() is None, "the worker died when Redis was flushed under it"
    finally:
        stop(worker)
        connection.close()


def _alarm_rings(*, again: bool) -> Callable[[str], bool]:
    def rings(text: str) -> bool:
        return text.startswith("🚨 闹钟") and ("再次提醒" in text) == again

    return rings


def _reaches(tally: Callable[[], Awaitable[dict[str, int]]], wanted: dict[str, int]) -> Callable[[], Awaitable[bool]]:
    """A check for `until`: every count has reached what is wanted (more shows in the assert)."""

    async def check() -> bool:
        found = await tally()
        return all(found[key] >= value for key, value in wanted.items())

    return check
