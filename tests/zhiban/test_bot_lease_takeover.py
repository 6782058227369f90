"""After kill -9 the same bot takes its own lease back at once; any other instance waits."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from records import lease
from records.clock import FrozenClock
from records.config import Settings
from records.db import Database
from zhiban.bot_runner import (
    LEASE_TTL,
    STANDBY_LOOK_SECONDS,
    STANDBY_RETRY_SECONDS,
    BotRuntime,
    Holder,
    pid_alive,
    store_id,
)

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
NAME = "bot:@zhiban:office.example"
HOST = socket.gethostname()


def _dead_pid() -> int:
    """The pid of a process that has exited (what kill -9 leaves behind)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _runtime(tmp_path: Path, db_url: str) -> BotRuntime:
    return BotRuntime(Settings(data_dir=tmp_path, database={"url": db_url}))


async def test_a_restarted_bot_takes_the_lease_its_killed_run_left(db: Database, tmp_path: Path) -> None:
    clock = FrozenClock(T0)
    killed = Holder("ZBDEVICE", store_id(tmp_path / "bot-store"), HOST, _dead_pid())
    assert await lease.acquire(db, NAME, str(killed), LEASE_TTL, clock)
    clock.advance(timedelta(seconds=1))  # the killed run's lease has 29 s to go

    runtime = _runtime(tmp_path, db.url)
    runtime._identify("ZBDEVICE")  # the device saved by the killed run
    try:
        assert await lease.acquire(db, NAME, runtime.holder, LEASE_TTL, clock, may_take=runtime._mine)
    finally:
        await runtime.db.dispose()
    # The killed run, were it somehow back, no longer holds it.
    assert not await lease.acquire(db, NAME, str(killed), LEASE_TTL, clock)


async def test_another_instance_waits_for_the_lease_to_expire(db: Database, tmp_path: Path) -> None:
    clock = FrozenClock(T0)
    here = store_id(tmp_path / "here" / "bot-store")
    me = Holder("ZBDEVICE", here, HOST, os.getpid())
    others = [
        Holder("ZBDEVICE", store_id(tmp_path / "other" / "bot-store"), "standby-host", 4242),  # shared config
        Holder("OTHERDEVICE", here, HOST, _dead_pid()),  # another device
        Holder("ZBDEVICE", here, HOST, os.getppid()),  # a second process on this store, running
    ]
    previous = ""
    for other in [*map(str, others), f"{HOST}:{_dead_pid()}"]:  # the last: a holder naming no device
        await lease.release(db, NAME, previous)
        assert await lease.acquire(db, NAME, other, LEASE_TTL, clock)
        assert not await lease.acquire(db, NAME, str(me), LEASE_TTL, clock, may_take=me.left_by_earlier_run), other
        previous = other
    clock.advance(LEASE_TTL + timedelta(seconds=1))
    assert await lease.acquire(db, NAME, str(me), LEASE_TTL, clock, may_take=me.left_by_earlier_run)


def test_holders_name_the_device_the_data_folder_and_the_process(tmp_path: Path) -> None:
    holder = Holder("ZBDEVICE", store_id(tmp_path), "bot-1", 77)
    assert Holder.parse(str(holder)) == holder
    assert store_id(tmp_path) == holder.store  # made once per data folder
    assert Holder.parse("bot-1:77") is None
    assert holder.left_by_earlier_run(str(Holder("ZBDEVICE", holder.store, "bot-1", 77)))  # pid 1 in a container
    assert pid_alive(os.getpid()) and not pid_alive(_dead_pid())


async def test_a_standby_tries_again_just_after_the_lease_runs_out(db: Database, tmp_path: Path) -> None:
    """After a kill -9 the lease has up to 30 s left; the standby must not add a 10 s poll to it."""
    clock = FrozenClock(T0)
    active = Holder("ZBDEVICE", "activestore", "active-host", 4242)
    assert await lease.acquire(db, NAME, str(active), LEASE_TTL, clock)
    standby = BotRuntime(Settings(data_dir=tmp_path, database={"url": db.url}), clock=clock)
    try:
        # Just renewed: the standby only looks again now and then (a clean stop lets it go).
        assert await standby._standby_wait(NAME) == STANDBY_LOOK_SECONDS
        clock.advance(timedelta(seconds=29))  # the active bot was killed right after renewing
        assert await standby._standby_wait(NAME) == 1 + STANDBY_RETRY_SECONDS
        clock.advance(timedelta(seconds=1 + STANDBY_RETRY_SECONDS))
        assert await lease.acquire(db, NAME, standby.holder, LEASE_TTL, clock, may_take=standby._mine)
        await lease.release(db, NAME, standby.holder)
        # Let go cleanly (a stop, not a kill): try again at once.
        assert await standby._standby_wait(NAME) == STANDBY_RETRY_SECONDS
    finally:
        await standby.db.dispose()
