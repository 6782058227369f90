"""Timers through the real worker: Redis is only the carrier, so flushing it loses nothing."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest
import redis
from rq import Queue

from records.clock import SystemClock
from records.db import Database
from tests.e2e.conftest import MakeBot
from tests.support.fixtures import MakeUser
from zhiban.worker import timer_pump

pytestmark = pytest.mark.e2e


async def test_reminder_fires_after_its_queued_job_is_flushed(
    make_bot: MakeBot, make_user: MakeUser, redis_url: str
) -> None:
    bot = await make_bot(e2ee=False, worker={"claim_lease_seconds": 3, "pump_interval_seconds": 0.5})
    alice = await make_user("alice")
    room = await alice.create_room(invite=[bot.user_id])
    await alice.wait_for_member(room, bot.user_id)
    mark = alice.mark()
    await alice.send_text(room, "!remind room in 2 seconds 检查排涝泵站")
    await alice.wait_for_message(room, sender=bot.user_id, contains="已设提醒", since=mark)
    # From here on only the reminder itself counts: its confirmation names the same text.
    mark = alice.mark()
    await asyncio.sleep(2.5)

    # A pump hands the due timer to Redis, and then Redis loses it.
    connection = redis.Redis.from_url(redis_url)
    queue = Queue(bot.settings.redis.queue, connection=connection)
    db = Database(bot.settings.database_url)
    claimed = await timer_pump(bot.settings, db, queue, SystemClock()).pump_once()
    await db.dispose()
    assert claimed == 1 and queue.count == 1
    connection.flushdb()
    assert queue.count == 0

    worker = subprocess.Popen(  # noqa: ASYNC220 - a long-lived child, not awaited
        [sys.executable, "-m", "zhiban.cli", "worker", "--config", str(bot.config_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "ZHIBAN_CONFIG": str(bot.config_path)},
    )
    try:
        fired = await alice.wait_for_message(room, sender=bot.user_id, contains="检查排涝泵站", since=mark, timeout=60)
        assert (fired.body or "").startswith("⏰ 提醒")
        await asyncio.sleep(3)  # a second delivery, if any, would arrive by now
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    deliveries = [
        e
        for e in alice.received[mark:]
        if e.sender == bot.user_id and (e.body or "").startswith("⏰ 提醒") and "检查排涝泵站" in (e.body or "")
    ]
    assert len(deliveries) == 1
