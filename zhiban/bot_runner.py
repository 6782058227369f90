"""`zhiban bot`: one active bot per Matrix account, with standbys waiting on the lease."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot import BotClient, ClientOptions, JoinPolicy, MemoryStorage, RedisStorage
from bot.fsm import BaseStorage
from records import lease
from records.clock import Clock, SystemClock
from records.db import Database
from records.migrate import upgrade_async
from zhiban.app import build_dispatcher
from zhiban.redis_conn import resolve_url
from zhiban.relay import OutboxRelay
from zhiban.settings import Settings
from zhiban.tokens import DatabaseTokenStore

log = logging.getLogger(__name__)

LEASE_TTL = timedelta(seconds=30)


def _session_file(store_dir: Path) -> Path:
    return store_dir / "session.json"


def load_session(store_dir: Path) -> dict[str, str]:
    path = _session_file(store_dir)
    if path.exists():
        return dict(json.loads(path.read_text()))
    return {}


def save_session(store_dir: Path, user_id: str, access_token: str, device_id: str) -> None:
    """Keep the device: a new login per start would orphan the end-to-end keys."""
    path = _session_file(store_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"user_id": user_id, "access_token": access_token, "device_id": device_id}))
    path.chmod(0o600)


async def make_storage(settings: Settings) -> BaseStorage:
    url = resolve_url(settings.redis.url)
    if url is None:
        log.warning("no Redis reachable: wizard state is kept in memory and lost on restart")
        return MemoryStorage()
    import redis.asyncio as aioredis

    return RedisStorage(aioredis.Redis.from_url(url))


class BotRuntime:
    def __init__(self, settings: Settings, *, holder: str | None = None, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}"
        self.db = Database(settings.database_url)
        self.client: BotClient | None = None
        self.relay: OutboxRelay | None = None
        self._stopping = asyncio.Event()

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
        await upgrade_async(self.settings.database_url)
        clock = self.clock
        name = f"bot:{self.settings.matrix.user_id}"
        while not await lease.acquire(self.db, name, self.holder, LEASE_TTL, clock):
            log.info("another bot holds %s; standing by", name)
            try:
                await asyncio.wait_for(self._stopping.wait(), LEASE_TTL.total_seconds() / 3)
                return
            except TimeoutError:
                continue
        storage = await make_storage(self.settings)
        dispatcher = build_dispatcher(self.settings, self.db, storage=storage, clock=clock)
        options = self.options()
        self.client = client = BotClient(options, dispatcher, token_store=DatabaseTokenStore(self.db, options.user_id))
        dispatcher.context["client"] = client
        await client.login()
        if options.access_token and options.device_id:
            save_session(options.store_dir or Path("."), options.user_id, options.access_token, options.device_id)
        self.relay = OutboxRelay(self.db, client)
        tasks = [
            asyncio.create_task(self.relay.run(), name="outbox-relay"),
            asyncio.create_task(self._renew_lease(name, clock), name="lease"),
            asyncio.create_task(client.run(), name="sync"),
        ]
        await dispatcher.emit_startup()
        log.info("bot %s is running", options.user_id)
        stopper = asyncio.create_task(self._stopping.wait())
        done, _ = await asyncio.wait([*tasks, stopper], return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task is not stopper and task.exception() is not None:
                log.error("bot task %s failed", task.get_name(), exc_info=task.exception())
        await client.stop()
        await self.relay.relay_once()
        self.relay.stop()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await dispatcher.emit_shutdown()
        await lease.release(self.db, name, self.holder)
        await storage.close()
        await client.close()
        await self.db.dispose()

    async def _renew_lease(self, name: str, clock: Clock) -> None:
        while True:
            await asyncio.sleep(LEASE_TTL.total_seconds() / 3)
            if not await lease.acquire(self.db, name, self.holder, LEASE_TTL, clock):
                # Someone else took over (we were paused too long): stop rather than answer twice.
                log.error("lost the bot lease to another instance; stopping")
                self._stopping.set()
                return

    def stop(self) -> None:
        self._stopping.set()


def run_bot(settings: Settings) -> None:
    async def main() -> None:
        runtime = BotRuntime(settings)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, runtime.stop)
        await runtime.run()

    asyncio.run(main())


__all__: list[Any] = ["BotRuntime", "run_bot"]
