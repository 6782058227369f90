"""`zhiban health bot|worker|server`: each process's own health, one plain line, exit 0 or 1.

The compose file checked the bot and the workers with `zhiban doctor`, which fails until the
speech model is assembled and whenever the homeserver is down: the bot stayed unhealthy for
good, and workers, which never talk to the homeserver, turned unhealthy with it.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from rq import Queue
from rq.worker import SimpleWorker
from typer.testing import CliRunner

from records.config import Settings
from records.db import Database
from records.models import Lease
from zhiban import bot_heartbeat as heartbeat
from zhiban.cli import app
from zhiban.health import server_health

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))
from live_server import serve

from server.app import create_app

USER = "@zhiban:office.example"
NOBODY_LISTENS = "http://127.0.0.1:9"  # the discard port: nothing answers there


def health(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["health", *args])
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output  # one plain line, never a traceback
    return result.exit_code, lines[0]


@pytest.fixture(name="env")
def env_fixture(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("ZHIBAN_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("ZHIBAN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ZHIBAN_DATABASE__URL", database_url)
    monkeypatch.setenv("ZHIBAN_MATRIX__USER_ID", USER)
    monkeypatch.setenv("ZHIBAN_MATRIX__HOMESERVER", NOBODY_LISTENS)
    return database_url


def hold_lease(url: str, holder: str, expires_at: datetime) -> None:
    async def write() -> None:
        db = Database(url, pooled=False)
        async with db.transaction() as session:
            session.add(Lease(name=f"bot:{USER}", holder=holder, expires_at=expires_at))
        await db.dispose()

    asyncio.run(write())


def test_bot_is_healthy_only_while_a_bot_of_this_host_holds_a_live_lease(env: str) -> None:
    code, line = health("bot")
    assert code == 1 and "not running" in line
    here = f"DEVICE/abc@{socket.gethostname()}:{os.getpid()}"
    hold_lease(env, here, datetime.now(UTC) + timedelta(seconds=30))
    assert health("bot") == (0, f"bot: ok (pid {os.getpid()} holds the lease)")
    # Ready asks more: the bot must have synced with its homeserver.
    code, line = health("bot", "--ready")
    assert code == 1 and "has not synced with the homeserver yet" in line


def note(url: str, key: str, who: str, at: datetime) -> None:
    async def write() -> None:
        db = Database(url, pooled=False)
        await heartbeat.record(db, key, who, at)
        await db.dispose()

    asyncio.run(write())


def test_bot_that_stopped_syncing_is_alive_but_not_ready(env: str) -> None:
    """The homeserver went down: the bot process runs on and renews its lease, but hears nothing."""
    here = f"DEVICE/abc@{socket.gethostname()}:{os.getpid()}"
    hold_lease(env, here, datetime.now(UTC) + timedelta(seconds=30))
    note(env, heartbeat.synced_key(USER), here, datetime.now(UTC) - timedelta(seconds=5))
    assert health("bot", "--ready") == (0, f"bot: ok (pid {os.getpid()} holds the lease)")
    note(env, heartbeat.synced_key(USER), here, datetime.now(UTC) - timedelta(minutes=3))
    assert health("bot")[0] == 0
    code, line = health("bot", "--ready")
    assert code == 1 and "last synced with the homeserver 180 s ago" in line
    # A sync noted by the bot that held the lease before does not make this one ready.
    note(env, heartbeat.synced_key(USER), "DEVICE/old@elsewhere:1", datetime.now(UTC))
    assert health("bot", "--ready")[0] == 1


def test_a_standby_bot_is_alive_but_not_active(env: str) -> None:
    hold_lease(env, "DEVICE/abc@another-host:1", datetime.now(UTC) + timedelta(seconds=30))
    note(env, heartbeat.standby_key(USER, socket.gethostname()), str(os.getpid()), datetime.now(UTC))
    code, line = health("bot")
    assert code == 0 and line.startswith(f"bot: standby (pid {os.getpid()}), alive but not active"), line
    assert "DEVICE/abc@another-host:1" in line
    code, line = health("bot", "--ready")
    assert code == 1 and "standby" in line
    # A standby that stopped noting that it waits (hung, or gone) is not alive.
    note(
        env,
        heartbeat.standby_key(USER, socket.gethostname()),
        str(os.getpid()),
        datetime.now(UTC) - timedelta(minutes=2),
    )
    assert health("bot")[0] == 1


def test_bot_held_elsewhere_or_stalled_is_unhealthy(env: str) -> None:
    hold_lease(env, "DEVICE/abc@another-host:1", datetime.now(UTC) + timedelta(seconds=30))
    code, line = health("bot")
    assert code == 1 and "not by a bot of this host" in line


def test_bot_whose_lease_ran_out_is_unhealthy(env: str) -> None:
    hold_lease(env, f"{socket.gethostname()}:{os.getpid()}", datetime.now(UTC) - timedelta(seconds=1))
    code, line = health("bot")
    assert code == 1 and "stalled" in line


@pytest.fixture(name="worker_env")
def worker_env_fixture(env: str, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[redis.Redis]:
    monkeypatch.setenv("ZHIBAN_REDIS__URL", redis_url)
    connection = redis.Redis.from_url(redis_url)
    connection.flushdb()
    yield connection
    connection.flushdb()


def test_worker_is_healthy_while_its_rq_worker_beats_and_ignores_the_homeserver(worker_env: redis.Redis) -> None:
    code, line = health("worker")
    assert code == 1 and "no live worker of this host" in line
    worker = SimpleWorker([Queue(Settings().redis.queue, connection=worker_env)], connection=worker_env)
    worker.register_birth()
    # The homeserver is down (NOBODY_LISTENS); a worker never talks to it, so it is healthy.
    assert health("worker") == (0, f"worker: ok ({worker.name}, pid {os.getpid()})")
    assert health("worker", "--ready")[0] == 0
    worker.register_death()
    assert health("worker")[0] == 1


def test_worker_is_alive_but_not_ready_without_its_database(
    worker_env: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    SimpleWorker([Queue(Settings().redis.queue, connection=worker_env)], connection=worker_env).register_birth()
    monkeypatch.setenv("ZHIBAN_DATABASE__URL", "postgresql://nobody@127.0.0.1:9/none")
    assert health("worker")[0] == 0
    code, line = health("worker", "--ready")
    assert code == 1 and "the database does not answer" in line


def test_worker_without_redis_is_unhealthy(env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZHIBAN_REDIS__URL", "redis://127.0.0.1:9/0")
    code, line = health("worker")
    assert code == 1 and "Redis does not answer" in line


def test_server_down_is_unhealthy(env: str) -> None:
    code, line = health("server", "--port", "9")
    assert code == 1 and "does not answer" in line


async def test_server_up_is_healthy_and_ready(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    async with serve(create_app(settings)) as base_url:
        port = int(base_url.rsplit(":", 1)[1])
        alive = await server_health(settings, port=port)
        ready = await server_health(settings, port=port, ready=True)
    assert alive.ok and alive.line == f"server: ok (http://127.0.0.1:{port}/healthz)"
    # The SQLite file was never migrated, but it answers SELECT 1: ready.
    assert ready.ok, ready.line
