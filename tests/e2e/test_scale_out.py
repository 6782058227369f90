"""Scale-out on PostgreSQL: two bots (one active, one standing by), three workers, two servers.

The active bot is killed with SIGKILL in the middle of a wizard, with a reminder due moments
later. The standby takes the lease when it runs out and carries on: the wizard's next turn,
the commands sent meanwhile and the reminder are each answered exactly once, as the
homeserver's own history shows. The killed bot then comes back as the standby, and the active
one is stopped cleanly (a rolling upgrade): its lease, let go, is taken without waiting.

Both push servers serve the same office: a browser signed in on one is known to the other.

End-to-end encryption is off here: each bot logs in from its own data folder and so as its own
device; an encrypted room would also need the people's clients to share keys with the
standby's device, which is not what this test is about.
"""

from __future__ import annotations

import asyncio
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from notifications import signin
from records.clock import SystemClock
from records.config import Settings, load_settings
from records.db import Database
from records.models import Lease
from server.session import COOKIE
from tests.support.fixtures import MakeUser
from tests.support.processes import History, count, kill, spawn_bot, spawn_worker, stop, until, zhiban_env
from zhiban import bot_heartbeat as heartbeat
from zhiban.bot_runner import LEASE_TTL
from zhiban.config_file import write_config
from zhiban.health import bot_health
from zhiban.local.homeserver import LocalHomeserver

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("database_url", ["postgres"], indirect=True)]

# A guard against a hang, not a speed figure: the standby takes the lease half a second after it
# runs out (a lease has at most 30 s left after a kill); the guard leaves room for a slow machine.
TAKEOVER_GUARD_S = LEASE_TTL.total_seconds() + 15


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Office:
    """The deployment: one account, its configs (one data folder per bot), and the processes."""

    bot_id: str
    password: str
    configs: list[Path]
    settings: Settings
    server_ports: list[int]
    bots: list[subprocess.Popen[bytes]]
    others: list[subprocess.Popen[bytes]]

    async def lease(self) -> Lease | None:
        db = Database(self.settings.database_url, pooled=False)
        try:
            async with db.reading() as session:
                return await session.get(Lease, f"bot:{self.bot_id}")
        finally:
            await db.dispose()

    async def held_by(self, process: subprocess.Popen[bytes]) -> bool:
        lease = await self.lease()
        return lease is not None and lease.holder.endswith(f":{process.pid}")

    async def standing_by(self, process: subprocess.Popen[bytes]) -> bool:
        db = Database(self.settings.database_url, pooled=False)
        try:
            beat = await heartbeat.read(db, heartbeat.standby_key(self.bot_id, socket.gethostname()))
        finally:
            await db.dispose()
        return beat is not None and beat.who == str(process.pid)


def spawn_server(config: Path, port: int) -> subprocess.Popen[bytes]:
    with (config.parent / f"server-{port}.log").open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "zhiban.cli", "server", "--config", str(config), "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=zhiban_env(),
        )


@pytest_asyncio.fixture(loop_scope="session", name="office")
async def office_fixture(
    homeserver: LocalHomeserver, redis_url: str, database_url: str, tmp_path: Path
) -> AsyncIterator[Office]:
    """`database_url`: a fresh, migrated PostgreSQL database of this test (see pytestmark)."""
    password = secrets.token_urlsafe(12)
    bot_id = await homeserver.register(f"zhiban-{secrets.token_hex(3)}", password)
    shared: dict[str, object] = {
        "database": {"url": database_url},
        "matrix": {
            "homeserver": homeserver.base_url,
            "user_id": bot_id,
            "password": password,
            "e2ee": False,
            "allowed_servers": [homeserver.server_name],
        },
        "redis": {"url": redis_url, "queue": f"zhiban-scale-{secrets.token_hex(3)}"},
        "worker": {"claim_lease_seconds": 3, "pump_interval_seconds": 0.5},
        "server": {"secret_key": secrets.token_hex(24)},  # shared: a sign-in holds on either server
        "meetings": {"places": {"三楼会议室": 10}},
    }
    configs = []
    for name in ("bot-a", "bot-b"):
        config = tmp_path / name / "zhiban.toml"
        write_config(config, {**shared, "data_dir": str(tmp_path / name)})
        configs.append(config)
    office = Office(bot_id, password, configs, load_settings(configs[0]), [free_port(), free_port()], [], [])
    try:
        yield office
    finally:
        for process in [*office.bots, *office.others]:
            stop(process)


async def test_the_standby_takes_over_after_sigkill_with_nothing_lost_or_sent_twice(
    office: Office, make_user: MakeUser
) -> None:
    first_config, second_config = office.configs
    office.others += [spawn_worker(first_config, log_path=first_config.parent / f"worker-{n}.log") for n in range(3)]
    office.others += [spawn_server(first_config, port) for port in office.server_ports]
    active = spawn_bot(first_config)
    office.bots.append(active)
    await until(lambda: office.held_by(active), "the first bot never took the lease", within=120)
    standby = spawn_bot(second_config)
    office.bots.append(standby)
    await until(lambda: office.standing_by(standby), "the second bot never stood by", within=120)

    alice = await make_user("alice")
    bob = await make_user("bob")
    room = await alice.create_room(invite=[office.bot_id, bob.user_id])
    for member in (office.bot_id, bob.user_id):
        await alice.wait_for_member(room, member, timeout=90)
    mark = alice.mark()
    await alice.send_text(room, "!ping")
    await alice.wait_for_message(room, sender=office.bot_id, contains="在线", since=mark, timeout=90)
    healthy = await bot_health(office.settings, ready=True)
    assert healthy.ok and f"pid {active.pid}" in healthy.line, healthy.line

    # A wizard under way, and a reminder due just after the kill.
    await alice.send_text(room, f"!会议 发起 周会 {bob.user_id}")
    await alice.wait_for_message(room, sender=office.bot_id, contains="什么时间开", since=mark, timeout=90)
    await alice.send_text(room, "!remind room in 5 seconds 检查排涝泵站")
    await alice.wait_for_message(room, sender=office.bot_id, contains="已设提醒", since=mark, timeout=90)
    await alice.send_text(room, "明天上午10点")
    await alice.wait_for_message(room, sender=office.bot_id, contains="在哪里开", since=mark, timeout=90)

    left_behind = await office.lease()
    kill(active)
    killed_at = time.monotonic()
    # The conversation goes on while nobody answers.
    await alice.send_text(room, "三楼会议室")
    await alice.send_text(room, "!tz Asia/Tokyo")

    await until(lambda: office.held_by(standby), "the standby never took over", within=TAKEOVER_GUARD_S)
    took_lease = time.monotonic() - killed_at
    taken = await office.lease()
    assert left_behind is not None and taken is not None
    # Not a moment before the killed bot's lease ran out: two active bots would answer twice.
    assert taken.expires_at - LEASE_TTL >= left_behind.expires_at, (left_behind.expires_at, taken.expires_at)
    await alice.wait_for_message(room, sender=office.bot_id, contains="已发起会议", since=mark, timeout=90)
    answered = time.monotonic() - killed_at
    await alice.wait_for_message(room, sender=office.bot_id, contains="设为 Asia/Tokyo", since=mark, timeout=90)
    await alice.wait_for_message(room, sender=office.bot_id, contains="检查排涝泵站", since=mark, timeout=90)
    probe = alice.mark()
    await alice.send_text(room, "!ping")
    await alice.wait_for_message(room, sender=office.bot_id, contains="在线", since=probe, timeout=90)
    print(
        f"lease {LEASE_TTL.total_seconds():.0f} s; standby took it {took_lease:.1f} s, answered {answered:.1f} s after the kill"
    )

    now_active = await bot_health(office.settings, ready=True)
    assert now_active.ok and f"pid {standby.pid}" in now_active.line, now_active.line
    async with httpx.AsyncClient(timeout=10) as client:
        for port in office.server_ports:
            ready = await client.get(f"http://127.0.0.1:{port}/readyz")
            assert ready.status_code == 200, (port, ready.text)
    # Behind a proxy a browser meets either server: signed in on one, it is known to the other.
    first, second = (f"http://127.0.0.1:{port}" for port in office.server_ports)
    db = Database(office.settings.database_url, pooled=False)
    try:
        async with db.transaction() as session:
            token = await signin.create_link(session, alice.user_id, minutes=15, clock=SystemClock())
    finally:
        await db.dispose()
    async with httpx.AsyncClient(base_url=first, timeout=10) as browser:
        signed_in = await browser.post(f"/push/signin/{token}")
        assert signed_in.status_code == 303, signed_in.text
        cookie = browser.cookies[COOKIE]
    async with httpx.AsyncClient(base_url=second, cookies={COOKIE: cookie}, timeout=10) as browser:
        me = await browser.get("/api/push/me")
        assert me.status_code == 200 and me.json()["user_id"] == alice.user_id, me.text

    # A rolling upgrade next: the killed bot comes back and stands by, the active one stops
    # cleanly and lets its lease go, so the other takes it without waiting for it to run out.
    restarted = spawn_bot(first_config)
    office.bots.append(restarted)
    await until(lambda: office.standing_by(restarted), "the restarted bot never stood by", within=120)
    stop(standby)
    await until(lambda: office.held_by(restarted), "a lease let go was not taken", within=LEASE_TTL.total_seconds())
    probe = alice.mark()
    await alice.send_text(room, "!ping")
    await alice.wait_for_message(room, sender=office.bot_id, contains="在线", since=probe, timeout=90)

    await asyncio.sleep(3)  # a second delivery of anything, were there one, arrives by now
    async with History.login(office.settings.matrix.homeserver, office.bot_id, office.password) as history:
        said = await history.messages(room)
    replies = {
        "pong": count(said, sender=office.bot_id, contains="在线"),
        "time asked": count(said, sender=office.bot_id, contains="什么时间开"),
        "place asked": count(said, sender=office.bot_id, contains="在哪里开"),
        "meeting made": count(said, sender=office.bot_id, contains="已发起会议"),
        "reminder set": count(said, sender=office.bot_id, contains="已设提醒"),
        "reminder": count(said, sender=office.bot_id, contains=["⏰ 提醒", "检查排涝泵站"]),
        "zone set": count(said, sender=office.bot_id, contains="设为 Asia/Tokyo"),
    }
    assert replies == {
        "pong": 3,
        "time asked": 1,
        "place asked": 1,
        "meeting made": 1,
        "reminder set": 1,
        "reminder": 1,
        "zone set": 1,
    }, replies
