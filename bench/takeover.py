"""Takeover by a standby bot after kill -9 of the active one.

Two `zhiban bot` processes run for the same account, each from its own data folder, on one
database (PostgreSQL when one answers at ZHIBAN_TEST_POSTGRES, else a shared SQLite file):
one holds the lease and answers, the other stands by. The active bot is killed with SIGKILL
just after it renewed its lease (the worst moment: the lease has all its time left), and a
person sends `!ping` at that moment. The figure is kill → the standby's answer: the lease
running out, the standby taking it, logging in, its first sync, the reply. The killed bot is
then started again and becomes the standby for the next round.
Target: under the lease time plus 5 s.

    python -m bench.takeover [--rounds 2]
"""

from __future__ import annotations

import asyncio
import secrets
import signal
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from bench.backup import PG_ADMIN_URL
from bench.recovery import Person, redis_for_bench, rounds_argument, spawn_bot
from records.db import Database
from records.migrate import upgrade_async
from records.models import Lease
from zhiban import bot_heartbeat as heartbeat
from zhiban.bot_runner import LEASE_TTL
from zhiban.config_file import write_config
from zhiban.local.homeserver import LocalHomeserver

MARGIN_S = 5.0
GUARD_S = 180.0  # a hang guard, far above any figure that could PASS


async def _until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = time.monotonic() + GUARD_S
    while not await check():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        await asyncio.sleep(0.05)


class Account:
    """The bot account's lease and standby row, read from the shared database."""

    def __init__(self, url: str, user_id: str) -> None:
        self.db = Database(url)
        self.name = f"bot:{user_id}"
        self.standby_key = heartbeat.standby_key(user_id, socket.gethostname())

    async def lease(self) -> Lease | None:
        async with self.db.reading() as session:
            return await session.get(Lease, self.name)

    async def held_by(self, process: subprocess.Popen[bytes]) -> bool:
        lease = await self.lease()
        return lease is not None and lease.holder.endswith(f":{process.pid}")

    async def standing_by(self, process: subprocess.Popen[bytes]) -> bool:
        beat = await heartbeat.read(self.db, self.standby_key)
        return beat is not None and beat.who == str(process.pid)

    async def just_renewed(self) -> float:
        """Wait for the active bot's next lease renewal; the seconds the lease then has left."""
        before = await self.lease()
        assert before is not None

        async def renewed() -> bool:
            now = await self.lease()
            return now is not None and now.expires_at > before.expires_at

        await _until(renewed, "the active bot stopped renewing its lease")
        after = await self.lease()
        assert after is not None
        return (after.expires_at - datetime.now(UTC)).total_seconds()


async def database(root: Path) -> tuple[str, str | None]:
    """A fresh database both bots share: PostgreSQL if one answers, else an SQLite file."""
    try:
        conn = await asyncpg.connect(PG_ADMIN_URL, timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        url, name = f"sqlite:///{root / 'shared.db'}", None
    else:
        name = f"zhiban_bench_{secrets.token_hex(4)}"
        await conn.execute(f'CREATE DATABASE "{name}"')
        await conn.close()
        url = f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    await upgrade_async(url)
    return url, name


async def drop(name: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def takeover(root: Path, redis_url: str, db_url: str, rounds: int) -> list[tuple[float, float]]:
    """(seconds the lease had left at the kill, kill → the standby's answer) per round."""
    hs = LocalHomeserver(root / "synapse")
    await hs.start()
    bots: list[subprocess.Popen[bytes]] = []
    person: Person | None = None
    account: Account | None = None
    try:
        password = secrets.token_urlsafe(10)
        bot_id = await hs.register("zhiban", password)
        person_id = await hs.register("duty-officer", password)
        account = Account(db_url, bot_id)
        configs = []
        for name in ("bot-a", "bot-b"):
            config = root / name / "zhiban.toml"
            write_config(
                config,
                {
                    "data_dir": str(root / name),
                    "database": {"url": db_url},
                    "matrix": {"homeserver": hs.base_url, "user_id": bot_id, "password": password, "e2ee": False},
                    "redis": {"url": redis_url, "queue": f"zhiban-bench-{secrets.token_hex(3)}"},
                },
            )
            configs.append(config)
        active, standby = configs
        bots.append(active_bot := spawn_bot(active, root / "bot-a.log"))
        await _until(lambda: account.held_by(active_bot), "the first bot never took the lease")
        bots.append(standby_bot := spawn_bot(standby, root / "bot-b.log"))
        await _until(lambda: account.standing_by(standby_bot), "the second bot never stood by")

        person = Person(hs.base_url, person_id, bot_id)
        room = await person.enter(password)
        await asyncio.wait_for(await person.ping(room), GUARD_S)  # the active bot answers

        figures = []
        for _ in range(rounds):
            left = await account.just_renewed()
            killed_at = time.perf_counter()
            active_bot.send_signal(signal.SIGKILL)
            active_bot.wait()
            answered = await asyncio.wait_for(await person.ping(room), GUARD_S)
            figures.append((left, answered - killed_at))
            # The killed bot comes back, and stands by in its turn.
            bots.remove(active_bot)
            bots.append(restarted := spawn_bot(active, root / f"{active.parent.name}.log"))
            await _until(lambda: account.standing_by(restarted), "the restarted bot never stood by")
            active, standby = standby, active
            active_bot, standby_bot = standby_bot, restarted
            assert await account.held_by(active_bot)
        return figures
    finally:
        if person is not None:
            await person.close()
        for bot in bots:
            bot.terminate()
            bot.wait(timeout=30)
        if account is not None:
            await account.db.dispose()
        await hs.stop()


async def main_async(rounds: int) -> int:
    root = Path(tempfile.mkdtemp(prefix="zhiban-bench-takeover-"))
    redis_url, embedded = redis_for_bench(root)
    db_url, pg_name = await database(root)
    try:
        figures = await takeover(root, redis_url, db_url, rounds)
    finally:
        if pg_name is not None:
            await drop(pg_name)
        if embedded is not None:
            embedded.stop()
    lease_s = LEASE_TTL.total_seconds()
    target = lease_s + MARGIN_S
    times = [answer for _, answer in figures]
    kind = "PostgreSQL" if pg_name else "SQLite"
    print(f"standby bot takeover after kill -9 of the active one, two bots on {kind}, {rounds} rounds")
    print(f"    lease {lease_s:.0f} s; killed just after a renewal (lease left at the kill: ", end="")
    print(", ".join(f"{left:.1f} s" for left, _ in figures) + ")")
    print(
        f"    kill → the standby answers !ping: median {statistics.median(times):5.2f} s   worst {max(times):5.2f} s   ",
        end="",
    )
    print(f"target < lease + {MARGIN_S:.0f} s = {target:.0f} s   {'PASS' if max(times) < target else 'FAIL'}")
    return 0


def main() -> int:
    return asyncio.run(main_async(rounds_argument(__doc__, default=2)))


if __name__ == "__main__":
    raise SystemExit(main())
