"""A worker is SIGKILLed while a reminder's job is running; a new worker fires it exactly once.

The worker is started as the README says (`zhiban worker --config FILE`, from its own folder,
no ZHIBAN_* variables). Its reminder job is made to stop right after the reminder handler wrote
its message into the (uncommitted) transaction, and the process is killed there: nothing of
that run may reach the room, and the timer, whose claim the dead job no longer renews, must be
handed to the next worker within seconds, not after a 300 s lease. The room's history on the
homeserver holds the reminder exactly once.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import MakeBot
from tests.support.fixtures import MakeUser
from tests.support.processes import History, count, kill, spawn_worker, stop, until, wait_for_marker

pytestmark = pytest.mark.e2e

TEXT = "检查排涝泵站"

# In the first worker: the reminder handler runs, then the job hangs before its commit.
HANG_IN_REMINDER = """
import records.timers as _timers
_get = _timers.TimerRegistry.get

def _get_hanging(self, kind):
    handler = _get(self, kind)
    if handler is None or kind != "reminder.fire":
        return handler

    async def hanging(session, timer, clock):
        fired = await handler(session, timer, clock)
        await session.flush()  # the reminder's message is written, not committed
        await hang(timer.id)
        return fired

    return hanging

_timers.TimerRegistry.get = _get_hanging
"""


async def test_a_reminder_whose_worker_was_killed_mid_job_fires_once(
    make_bot: MakeBot, make_user: MakeUser, tmp_path: Path
) -> None:
    bot = await make_bot(e2ee=False)
    alice = await make_user("alice")
    room = await alice.create_room(invite=[bot.user_id])
    await alice.wait_for_member(room, bot.user_id)
    mark = alice.mark()
    await alice.send_text(room, f"!remind room in 2 seconds {TEXT}")
    await alice.wait_for_message(room, sender=bot.user_id, contains="已设提醒", since=mark)

    marker = tmp_path / "reminder-job-running"
    first_log = tmp_path / "worker-1.log"
    first = spawn_worker(bot.config_path, hook=HANG_IN_REMINDER, marker=marker, cwd=tmp_path, log_path=first_log)
    second = None
    try:
        await wait_for_marker(marker, first, log_path=first_log)
        kill(first)
        killed_at = time.monotonic()
        second = spawn_worker(bot.config_path, cwd=tmp_path, log_path=tmp_path / "worker-2.log")

        async with History.login(alice.hs.base_url, alice.user_id, alice.password) as history:

            async def reminders() -> int:
                return count(await history.messages(room), sender=bot.user_id, contains=("⏰ 提醒", TEXT))

            await until(reminders, "the reminder never arrived after the worker was killed", within=120)
            print(f"reminder delivered {time.monotonic() - killed_at:.1f}s after its worker was killed")
            await asyncio.sleep(3)  # a second delivery, if any, would be in the history by now
            assert await reminders() == 1
    finally:
        kill(first)
        stop(second)
