"""A real bot against the real test homeserver: in-process, or as a process that can be killed."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest_asyncio

from commands.general.feature import PRUNE_KIND
from commands.tasks.timers import DIGEST
from records.clock import Clock, SystemClock
from records.config import Settings, load_settings
from records.db import Database
from records.models import Timer
from records.timers import TimerPump, run_timer
from zhiban.app import build_timers
from zhiban.bot_runner import BotRuntime
from zhiban.config_file import write_config
from zhiban.local.homeserver import LocalHomeserver


@dataclass
class BotHandle:
    settings: Settings
    config_path: Path
    user_id: str
    runtime: BotRuntime | None = None
    task: asyncio.Task[None] | None = None
    process: subprocess.Popen[bytes] | None = None

    clock: Clock | None = None

    async def start(self) -> None:
        if self.process is not None or self.task is not None:
            raise RuntimeError("already running")
        self.runtime = BotRuntime(self.settings, clock=self.clock)
        self.task = asyncio.create_task(self.runtime.run())
        for _ in range(600):
            if self.task.done():
                self.task.result()
            if self.runtime.client is not None and self.runtime.client.synced.is_set():
                return
            await asyncio.sleep(0.05)
        raise TimeoutError("the bot did not finish its first sync")

    async def pump_timers(self) -> int:
        """Run the due timers now, in this process, on the bot's clock (what a worker would do).

        Returns how many of the test's own timers ran: the office's daily housekeeping (the
        task digest, ledger pruning) may also come due, depending on the hour the test runs,
        and runs too but is not counted.
        """
        clock = self.clock or SystemClock()
        db = Database(self.settings.database_url)
        registry = build_timers(self.settings)
        counted = 0
        try:

            async def run(timer_id: int) -> None:
                nonlocal counted
                async with db.reading() as session:
                    timer = await session.get(Timer, timer_id)
                    if timer is not None and timer.kind not in HOUSEKEEPING:
                        counted += 1
                await run_timer(db, timer_id, registry, clock)

            await TimerPump(db, clock, run).pump_once()
        finally:
            await db.dispose()
        if self.runtime is not None and self.runtime.relay is not None:
            self.runtime.relay.wake()
        return counted

    async def stop(self) -> None:
        if self.runtime is not None and self.task is not None:
            self.runtime.stop()
            # A guard against a hang, not a speed check: a clean stop takes well under a second.
            await asyncio.wait_for(self.task, 120)
        self.runtime, self.task = None, None

    def spawn(self) -> None:
        """Run the bot as its own process (`zhiban bot`), as in production."""
        log = open(self.config_path.parent / "bot-process.log", "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "zhiban.cli", "bot", "--config", str(self.config_path)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "ZHIBAN_CONFIG": str(self.config_path)},
        )

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, like a power cut."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)
            self.process = None

    def terminate(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
            self.process = None


HOUSEKEEPING = {DIGEST, PRUNE_KIND}

MakeBot = Callable[..., Awaitable[BotHandle]]


@pytest_asyncio.fixture(loop_scope="session")
async def make_bot(homeserver: LocalHomeserver, tmp_path: Path, redis_url: str) -> AsyncIterator[MakeBot]:
    handles: list[BotHandle] = []

    async def factory(
        *, start: bool = True, e2ee: bool = True, clock: Clock | None = None, **overrides: object
    ) -> BotHandle:
        localpart = f"zhiban-{secrets.token_hex(3)}"
        password = secrets.token_urlsafe(12)
        user_id = await homeserver.register(localpart, password)
        data_dir = tmp_path / localpart
        values: dict[str, object] = {
            "data_dir": str(data_dir),
            "matrix": {
                "homeserver": homeserver.base_url,
                "user_id": user_id,
                "password": password,
                "e2ee": e2ee,
                "allowed_servers": [homeserver.server_name],
            },
            "redis": {"url": redis_url, "queue": f"zhiban-test-{localpart}"},
            **overrides,
        }
        config_path = data_dir / "zhiban.toml"
        write_config(config_path, values)
        handle = BotHandle(load_settings(config_path), config_path, user_id, clock=clock)
        handles.append(handle)
        if start:
            await handle.start()
        return handle

    yield factory
    for handle in handles:
        handle.terminate()
        await handle.stop()
