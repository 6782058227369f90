"""`zhiban bot`: one active bot per Matrix account, with standbys waiting on the lease."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import secrets
import signal
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot import BotClient, ClientOptions, JoinPolicy
from bot.errors import MatrixError
from records import lease
from records.clock import Clock, SystemClock
from records.config import Settings
from records.db import PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, Database, private_dir, tighten
from records.migrate import upgrade_async
from zhiban import bot_heartbeat as heartbeat
from zhiban.app import build_dispatcher
from zhiban.config_file import write_private
from zhiban.redis_conn import resolve_url
from zhiban.relay import OutboxRelay
from zhiban.tokens import DatabaseTokenStore
from zhiban.wakeup import OUTBOX, WakeBus

log = logging.getLogger(__name__)

LEASE_TTL = timedelta(seconds=30)
# A standby tries again this long after the lease runs out (or soon, when it was just let go),
# and looks at least this often, to see a lease let go by a clean stop (a rolling upgrade).
STANDBY_RETRY_SECONDS = 0.5
STANDBY_LOOK_SECONDS = 2.0
# How often a standby notes that it waits (for `zhiban health bot`).
STANDBY_BEAT_SECONDS = LEASE_TTL.total_seconds() / 3
INSTANCE_FILE = "instance-id"


@dataclass(frozen=True)
class Holder:
    """Who holds the bot lease: this bot's device and data folder, and the process.

    A bot killed with kill -9 leaves its lease behind. The same bot started again (the same
    device, from the same data folder) recognises it as its own and takes it at once, instead
    of standing by until it expires. The data folder counts because a device id set in a
    config that two machines share must not let a standby push the active bot out.
    """

    device: str
    store: str
    host: str
    pid: int

    def __str__(self) -> str:
        return f"{self.device}/{self.store}@{self.host}:{self.pid}"

    @classmethod
    def parse(cls, text: str) -> Holder | None:
        instance, _, process = text.rpartition("@")
        device, _, store = instance.rpartition("/")
        host, _, pid = process.rpartition(":")
        if not (device and store and host and pid.isdigit()):
            return None  # a holder of an older version, or one that did not know its device
        return cls(device, store, host, int(pid))

    def left_by_earlier_run(self, other: str, alive: Callable[[int], bool] | None = None) -> bool:
        """`other` holds the lease for this same bot, in a process that no longer runs."""
        theirs = Holder.parse(other)
        if theirs is None or (theirs.device, theirs.store) != (self.device, self.store):
            return False
        if theirs.host != self.host:
            return True  # the data folder moved (a container started elsewhere): not running there
        return theirs.pid == self.pid or not (alive or pid_alive)(theirs.pid)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


def store_id(store_dir: Path) -> str:
    """A random id made once per data folder (the bot's store), to tell its runs from others'."""
    path = store_dir / INSTANCE_FILE
    if path.exists():
        return path.read_text().strip()
    store_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    token = secrets.token_hex(6)
    write_private(path, token)
    return token


def _session_file(store_dir: Path) -> Path:
    return store_dir / "session.json"


def load_session(store_dir: Path) -> dict[str, str]:
    path = _session_file(store_dir)
    if path.exists():
        return dict(json.loads(path.read_text()))
    return {}


def save_session(store_dir: Path, user_id: str, access_token: str, device_id: str) -> None:
    """Keep the device: a new login per start would orphan the end-to-end keys."""
    store_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    payload = json.dumps({"user_id": user_id, "access_token": access_token, "device_id": device_id})
    write_private(_session_file(store_dir), payload)


def secure_store(store_dir: Path, *, announce: bool = True) -> None:
    """The bot's session and end-to-end keys: the folder and every file in it, owner only."""
    private_dir(store_dir)
    for path in store_dir.rglob("*"):
        tighten(path, PRIVATE_DIR_MODE if path.is_dir() else PRIVATE_FILE_MODE, announce=announce)


class BotRuntime:
    def __init__(self, settings: Settings, *, holder: str | None = None, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        # Explicit: a test's name for this instance. Otherwise made from the device once known.
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}"
        self._identity: Holder | None = None
        self._explicit_holder = holder is not None
        self.db = Database(settings.database_url, pool=settings.database)
        self.client: BotClient | None = None
        self.relay: OutboxRelay | None = None
        self._stopping = asyncio.Event()
        self.lease_lost = False
        # Why the bot stopped on its own (the process then exits non-zero, so it is restarted).
        self.failure: BaseException | None = None

    def options(self) -> ClientOptions:
        m = self.settings.matrix
        store_dir = self.settings.data_dir / "bot-store"
        saved = load_session(store_dir)
        same_user = saved.get("user_id") == m.user_id
        return ClientOptions(
            homeserver=m.homeserver,
            user_id=m.user_id,
            password=m.password,
            access_token=m.access_token or (saved.get("access_token") if same_user else None),
            device_id=m.device_id or (saved.get("device_id") if same_user else None),
            device_name=m.device_name,
            store_dir=store_dir,
            e2ee=m.e2ee,
            encrypt_new_rooms=m.encrypt_new_rooms,
            join_policy=JoinPolicy(m.allowed_servers, m.allowed_users),
        )

    async def run(self) -> None:
        private_dir(self.settings.data_dir)  # created 0700, or tightened (with a log line)
        await upgrade_async(self.settings.database_url)
        clock = self.clock
        name = f"bot:{self.settings.matrix.user_id}"
        if holder_device := self.options().device_id:  # the device of the last run, if any
            self._identify(holder_device)
        standing_by = False
        beat_at = -math.inf
        while not await lease.acquire(self.db, name, self.holder, LEASE_TTL, clock, may_take=self._mine):
            if not standing_by:
                log.info("another bot holds %s; standing by", name)
                standing_by = True
            if time.monotonic() - beat_at >= STANDBY_BEAT_SECONDS:
                await heartbeat.record(self.db, self._standby_key, str(os.getpid()), datetime.now(UTC))
                beat_at = time.monotonic()
            try:
                await asyncio.wait_for(self._stopping.wait(), await self._standby_wait(name))
                await heartbeat.forget(self.db, self._standby_key)
                return
            except TimeoutError:
                continue
        if standing_by:
            log.info("took over %s", name)
            await heartbeat.forget(self.db, self._standby_key)
        try:
            await self._serve(name, clock)
        except BaseException:
            # A bot that dies (a wrong password, a fatal sync error) lets go of the lease, so that
            # its restart, or a standby, is not told that another bot holds it. Only kill -9 leaves
            # a lease behind (the same bot takes that back at start, see Holder).
            if not self.lease_lost:
                await lease.release(self.db, name, self.holder)
            await self.db.dispose()
            raise

    async def _serve(self, name: str, clock: Clock) -> None:
        """Log in and answer until stopped, holding the lease `name`."""
        # Wizard state is kept in the database, with each turn (zhiban.fsm_store). The storage is
        # built here, at each holding of the lease, which empties what an earlier holding cached.
        dispatcher = build_dispatcher(self.settings, self.db, clock=clock)
        options = self.options()
        self.client = client = BotClient(options, dispatcher, token_store=DatabaseTokenStore(self.db, options.user_id))
        dispatcher.context["client"] = client
        store_dir = options.store_dir or Path(".")
        secure_store(store_dir)

        async def remember_session() -> None:
            if options.access_token and options.device_id:
                save_session(store_dir, options.user_id, options.access_token, options.device_id)
                # The lease names the device now, so that a restart after a crash knows it.
                await self._rename_holder(name, options.device_id)

        client.on_login = remember_session
        await client.login()
        await remember_session()
        secure_store(store_dir, announce=False)  # the crypto store nio just created
        # Commands may address the bot by name in group rooms ("zhiban: help").
        dispatcher.context["bot_user_id"] = client.user_id
        dispatcher.context["bot_names"] = list({client.display_name, client.user_id.split(":")[0].lstrip("@")})
        self.relay = relay = OutboxRelay(self.db, client)
        redis_url = resolve_url(self.settings.redis.url)
        wake_bus = WakeBus(redis_url, self.settings.redis.queue) if redis_url else None
        dispatcher.context["wake_bus"] = wake_bus
        sync = asyncio.create_task(client.run(), name="sync")
        lease_task = asyncio.create_task(self._renew_lease(name, clock), name="lease")
        # The relay starts once the first sync has told us which rooms (and DM rooms) exist.
        await asyncio.wait([sync, asyncio.create_task(client.synced.wait())], return_when=asyncio.FIRST_COMPLETED)
        relay_task = asyncio.create_task(relay.run(), name="outbox-relay")
        await self._beat()  # ready from the first sync, not only from the next lease renewal
        tasks = [sync, lease_task, relay_task]
        if wake_bus is not None:  # workers say when their jobs wrote messages
            tasks.append(asyncio.create_task(wake_bus.listen({OUTBOX: relay.wake}), name="wake-ups"))
        await dispatcher.emit_startup()
        log.info("bot %s is running", options.user_id)
        stopper = asyncio.create_task(self._stopping.wait())
        done, _ = await asyncio.wait([*tasks, stopper], return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task is not stopper and task.exception() is not None:
                self.failure = task.exception()
                log.error("bot task %s failed", task.get_name(), exc_info=task.exception())
        if self.lease_lost:
            # Another instance is active now: send nothing more, or both would answer.
            relay.stop()
            relay_task.cancel()
        await client.stop()
        relay.stop()
        await asyncio.gather(relay_task, return_exceptions=True)
        if not self.lease_lost:
            await relay.relay_once()  # what the last handlers wrote goes out before we leave
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await dispatcher.emit_shutdown()
        if not self.lease_lost:
            await lease.release(self.db, name, self.holder)
        await dispatcher.storage.close()
        if wake_bus is not None:
            await wake_bus.close()
        await client.close()
        await self.db.dispose()
        if self.failure is None and client.fatal is not None:
            self.failure = client.fatal

    @property
    def _standby_key(self) -> str:
        return heartbeat.standby_key(self.settings.matrix.user_id, socket.gethostname())

    async def _standby_wait(self, name: str) -> float:
        """How long a standby sleeps before trying the lease again.

        Until the lease runs out, and not a fixed third of its time: after a kill -9 the lease
        has up to 30 s left, and a standby polling every 10 s would add up to 10 s more of
        nobody answering. Never longer than a short look (one read of one row), because a bot
        that stops cleanly lets its lease go long before it would run out.
        """
        until = await lease.held_until(self.db, name)
        longest = STANDBY_LOOK_SECONDS
        if until is None:
            return STANDBY_RETRY_SECONDS  # released between our try and this look: try again soon
        left = (until - self.clock.now()).total_seconds()
        return min(longest, max(STANDBY_RETRY_SECONDS, left + STANDBY_RETRY_SECONDS))

    async def _beat(self) -> None:
        """Tell `zhiban health bot --ready` when this bot last heard its homeserver."""
        if self.client is not None and self.client.last_synced_at is not None:
            key = heartbeat.synced_key(self.settings.matrix.user_id)
            await heartbeat.record(self.db, key, self.holder, self.client.last_synced_at)

    def _identify(self, device: str) -> None:
        if self._explicit_holder:
            return
        store_dir = self.settings.data_dir / "bot-store"
        self._identity = Holder(device, store_id(store_dir), socket.gethostname(), os.getpid())
        self.holder = str(self._identity)

    def _mine(self, other: str) -> bool:
        return self._identity is not None and self._identity.left_by_earlier_run(other)

    async def _rename_holder(self, name: str, device: str) -> None:
        if self._explicit_holder or (self._identity is not None and self._identity.device == device):
            return
        before = self.holder
        self._identify(device)
        # Still ours: the lease moves from the old name to the new one in one step.
        if not await lease.acquire(self.db, name, self.holder, LEASE_TTL, self.clock, may_take=lambda h: h == before):
            log.error("lost the bot lease to another instance; stopping")
            self.lease_lost = True
            self._stopping.set()

    async def _renew_lease(self, name: str, clock: Clock) -> None:
        while True:
            await asyncio.sleep(LEASE_TTL.total_seconds() / 3)
            if not await lease.acquire(self.db, name, self.holder, LEASE_TTL, clock):
                # Someone else took over (we were paused too long): stop rather than answer twice.
                log.error("lost the bot lease to another instance; stopping")
                self.lease_lost = True
                self._stopping.set()
                return
            await self._beat()

    def stop(self) -> None:
        self._stopping.set()


def run_bot(settings: Settings) -> None:
    async def main() -> None:
        runtime = BotRuntime(settings)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, runtime.stop)
        try:
            await runtime.run()
        except (ValueError, MatrixError) as exc:  # no credentials, or the homeserver refused them
            raise SystemExit(f"the bot cannot log in: {exc}. `zhiban doctor` checks the account.") from None
        if runtime.failure is not None:
            raise SystemExit(f"the bot stopped: {runtime.failure}")

    asyncio.run(main())


__all__: list[Any] = ["BotRuntime", "run_bot"]
