"""`zhiban health bot|worker|server`: is this process alive (and, with --ready, able to serve)?

Each check looks only at what its own process needs, so that a container is not called
unhealthy for the fault of a part it never talks to (a worker never talks to the homeserver),
nor for something that is not a fault at all (the speech model not yet assembled).
Each answers one plain line; the CLI exits 0 when it is good, 1 when not.
"""

from __future__ import annotations

import asyncio
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from sqlalchemy import text

from records.config import Settings
from records.db import Database
from records.models import Lease
from zhiban import bot_heartbeat as heartbeat

TIMEOUT_SECONDS = 5.0
# A sync is a long poll of 30 s, and the bot notes its last one with each lease renewal (10 s):
# quiet for longer than both twice over, it has lost its homeserver.
SYNC_STALE_SECONDS = 90.0
# A standby notes that it waits at least every 10 s.
STANDBY_STALE_SECONDS = 30.0


@dataclass(frozen=True)
class Health:
    ok: bool
    line: str


def _process_on_this_host(holder: str) -> int | None:
    """The pid in a holder written by a process of this host ("…@host:pid" or "host:pid"), else None."""
    host, _, pid = holder.rpartition("@")[2].rpartition(":")
    return int(pid) if host == socket.gethostname() and pid.isdigit() else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: it exists
    return True


async def _database_answers(settings: Settings) -> str | None:
    """None when the database answers, else why not (in a few words)."""
    db = Database(settings.database_url, pooled=False)
    try:
        async with db.reading() as session:
            await session.execute(text("SELECT 1"))
    except Exception as exc:
        return f"the database does not answer ({type(exc).__name__})"
    finally:
        await db.dispose()
    return None


async def bot_health(settings: Settings, *, ready: bool = False, now: datetime | None = None) -> Health:
    """Alive: a bot process of this host holds the bot lease, renewed in time (every 10 s,
    from the bot's own event loop), or stands by for it. Ready: the active bot has synced with
    its homeserver recently (a process that runs on while the homeserver is down is alive, not
    ready); a standby is alive but not ready: it answers nobody until it takes over."""
    name = f"bot:{settings.matrix.user_id}"
    now = now or datetime.now(UTC)
    db = Database(settings.database_url, pooled=False)
    try:
        async with db.reading() as session:
            lease = await session.get(Lease, name)
        synced = await heartbeat.read(db, heartbeat.synced_key(settings.matrix.user_id))
        standby = await heartbeat.read(db, heartbeat.standby_key(settings.matrix.user_id, socket.gethostname()))
    except Exception as exc:
        return Health(False, f"bot: the database does not answer ({type(exc).__name__})")
    finally:
        await db.dispose()
    pid = None if lease is None else _process_on_this_host(lease.holder)
    if lease is None or pid is None or not _alive(pid):
        if (waiting := _standby_here(standby, now)) is not None:
            held = "nobody holds the lease yet" if lease is None else f"the lease is held by {lease.holder}"
            return Health(not ready, f"bot: standby (pid {waiting}), alive but not active; {held}")
        if lease is None:
            return Health(False, f"bot: nobody holds the lease {name}; the bot is not running")
        return Health(False, f"bot: the lease is held by {lease.holder}, not by a bot of this host")
    if lease.expires_at <= now:
        return Health(False, f"bot: the lease ran out at {lease.expires_at:%H:%M:%S}; the bot has stalled")
    if ready:
        if synced is None or synced.who != lease.holder:
            return Health(False, "bot: holds the lease, but has not synced with the homeserver yet")
        quiet = (now - synced.at).total_seconds()
        if quiet > SYNC_STALE_SECONDS:
            return Health(False, f"bot: holds the lease, but last synced with the homeserver {quiet:.0f} s ago")
    return Health(True, f"bot: ok (pid {pid} holds the lease)")


def _standby_here(beat: heartbeat.Beat | None, now: datetime) -> int | None:
    """The pid of this host's standby bot, when it is running and beat lately."""
    if beat is None or not beat.who.isdigit() or not _alive(int(beat.who)):
        return None
    return int(beat.who) if (now - beat.at).total_seconds() <= STANDBY_STALE_SECONDS else None


async def worker_health(settings: Settings, redis_url: str, *, ready: bool = False) -> Health:
    """Alive: an rq worker of this host, on Zhiban's queue, has a live heartbeat in Redis.
    Ready: besides, the database answers (every job reads and writes it)."""
    found = await asyncio.to_thread(_local_rq_worker, settings, redis_url)
    if isinstance(found, str):
        return Health(False, f"worker: {found}")
    if ready and (problem := await _database_answers(settings)):
        return Health(False, f"worker: alive, but {problem}")
    return Health(True, f"worker: ok ({found.name}, pid {found.pid})")


def _local_rq_worker(settings: Settings, redis_url: str):  # type: ignore[no-untyped-def]
    """The live rq worker of this host, or why there is none."""
    import redis
    from rq import Queue, Worker

    try:
        connection = redis.Redis.from_url(redis_url, socket_timeout=TIMEOUT_SECONDS)
        # rq lets a worker's key expire when its heartbeats stop, so each one found is beating.
        workers = Worker.all(queue=Queue(settings.redis.queue, connection=connection))
    except redis.RedisError as exc:
        return f"Redis does not answer ({type(exc).__name__})"
    here = socket.gethostname()
    for worker in workers:
        if worker.hostname == here and worker.pid is not None and _alive(worker.pid):
            return worker
    return f"no live worker of this host ({here}) on queue {settings.redis.queue!r}"


async def server_health(settings: Settings, *, ready: bool = False, port: int | None = None) -> Health:
    """Alive: /healthz answers on this host. Ready: /readyz does (the database answers)."""
    path = "/readyz" if ready else "/healthz"
    url = f"http://127.0.0.1:{port or settings.server.port}{path}"
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS) as client:
            response = await client.get(url)
    except httpx.HTTPError as exc:
        return Health(False, f"server: {url} does not answer ({type(exc).__name__})")
    if response.status_code != 200:
        return Health(False, f"server: {url} answered {response.status_code}")
    return Health(True, f"server: ok ({url})")
