"""A worker is SIGKILLed in the middle of a batch of timers; another worker fires each once.

The pump hands a whole claimed batch to one job, and the job runs the batch's timers in one
transaction (a savepoint each). Here the first worker's job is stopped after some of its
timers wrote their message (uncommitted) and the process is killed: none of that may be kept,
the batch's claims must lapse within seconds, and the second worker must fire every timer,
each exactly once (one outbox row per timer, every timer done). Real processes (`zhiban worker
--config FILE`), a real Redis, SQLite and PostgreSQL.
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime
from pathlib import Path

import redis
from rq import Queue
from sqlalchemy import func, select

from records import timers
from records.clock import SystemClock
from records.db import Database
from records.models import OutboxMessage, Timer
from tests.support.processes import kill, spawn_worker, stop, until, wait_for_marker

KIND = "chaos.count"
COUNT = 40
HANG_AT = 10  # the job stops at the 10th timer of its batch, nine messages written before it

# Both workers fire "chaos.count" timers by writing one outbox message each; the first one
# hangs (and is killed) inside its batch's transaction.
HOOK = """
import records.timers as _timers
from records import outbox as _outbox

_get = _timers.TimerRegistry.get
_HANG = {hang}
_seen = []


def _get_counting(self, kind):
    if kind != "chaos.count":
        return _get(self, kind)

    async def count(session, timer, clock):
        await _outbox.enqueue(session, {{"msgtype": "m.text", "body": f"fired {{timer.id}}"}}, room_id="!chaos:test")
        _seen.append(timer.id)
        if _HANG and len(_seen) == {hang_at}:
            await session.flush()  # the messages are written, not committed
            await hang(timer.id)
        return None

    return count


_timers.TimerRegistry.get = _get_counting
"""


def _config(tmp_path: Path, database_url: str, redis_url: str, queue: str) -> Path:
    path = tmp_path / "zhiban.toml"
    path.write_text(
        f'data_dir = "{tmp_path / "data"}"\n'
        f'[database]\nurl = "{database_url}"\n'
        f'[redis]\nurl = "{redis_url}"\nqueue = "{queue}"\n'
        "[worker]\nclaim_lease_seconds = 2\npump_interval_seconds = 0.2\n"
    )
    return path


async def test_a_batch_whose_worker_was_killed_is_fired_once_by_another(
    db: Database, database_url: str, redis_url: str, tmp_path: Path
) -> None:
    clock = SystemClock()
    async with db.transaction() as session:
        ids = [
            (await timers.schedule(session, KIND, datetime.now(UTC), {"n": n}, clock=clock)).id for n in range(COUNT)
        ]
    queue = Queue(f"chaos-{secrets.token_hex(4)}", connection=redis.Redis.from_url(redis_url))
    config = _config(tmp_path, database_url, redis_url, queue.name)
    marker = tmp_path / "batch-job-running"
    first = spawn_worker(config, hook=HOOK.format(hang=True, hang_at=HANG_AT), marker=marker, cwd=tmp_path)
    second = None
    try:
        await wait_for_marker(marker, first, log_path=tmp_path / "worker-process.log")
        async with db.reading() as session:
            claimed = await session.scalar(select(func.count()).where(Timer.id.in_(ids), Timer.status == "claimed"))
        assert claimed == COUNT, "the first worker did not claim the due timers as one batch"
        assert queue.count == 0, "the batch was split into one job per timer"
        kill(first)
        killed_at = time.monotonic()
        second = spawn_worker(config, hook=HOOK.format(hang=False, hang_at=0), cwd=tmp_path)

        async def all_done() -> bool:
            async with db.reading() as session:
                done = await session.scalar(select(func.count()).where(Timer.id.in_(ids), Timer.status == "done"))
            return done == COUNT

        await until(all_done, "the killed worker's batch was never fired by the second worker", within=120)
        print(f"batch fired {time.monotonic() - killed_at:.1f}s after its worker was killed")
    finally:
        kill(first)
        stop(second)
    async with db.reading() as session:
        bodies = list(
            await session.scalars(select(OutboxMessage.content).where(OutboxMessage.room_id == "!chaos:test"))
        )
    fired = sorted(int(str(content["body"]).split()[1]) for content in bodies)
    assert fired == sorted(ids), "a timer of the batch fired twice, or not at all"
