"""Command round trip through a real Synapse, and the bot's memory.

(a) A client sends `!ping` and times the answer, alternating between Zhiban's bot (running
    as `zhiban bot`, with its database, ledger and outbox) and a bare matrix-nio echo bot,
    in the same run on the same homeserver. Target: Zhiban's p50 at most 1.2x the echo's.
(c) The bot process's resident memory at idle and after the load. Target: under 150 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nio
import psutil

from zhiban.config_file import write_config
from zhiban.local.homeserver import LocalHomeserver

E2EE = os.environ.get("BENCH_E2EE", "1") == "1"


class Client:
    """The person typing: sends a line and notes when each answer arrives."""

    def __init__(self, hs: str, user_id: str) -> None:
        self.nio = nio.AsyncClient(hs, user_id, config=nio.AsyncClientConfig(encryption_enabled=False))
        self.arrivals: dict[str, asyncio.Future[float]] = {}
        self.joined: dict[str, asyncio.Event] = {}

    async def on_text(self, room: nio.MatrixRoom, event: nio.RoomMessageText) -> None:
        future = self.arrivals.get(room.room_id)
        if future is not None and not future.done() and event.sender != self.nio.user_id:
            future.set_result(time.perf_counter())

    async def on_member(self, room: nio.MatrixRoom, event: nio.RoomMemberEvent) -> None:
        if event.membership == "join" and room.room_id in self.joined:
            self.joined[room.room_id].set()

    async def ping(self, room_id: str) -> float:
        self.arrivals[room_id] = asyncio.get_running_loop().create_future()
        sent = time.perf_counter()
        await self.nio.room_send(room_id, "m.room.message", {"msgtype": "m.text", "body": "!ping"})
        received = await asyncio.wait_for(self.arrivals[room_id], 30)
        return (received - sent) * 1000


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def main_async(n: int) -> int:
    root = Path(tempfile.mkdtemp(prefix="zhiban-bench-"))
    hs = LocalHomeserver(root / "synapse")
    hs.prepare()
    await hs.start()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        pw = secrets.token_urlsafe(10)
        bot_user = await hs.register("zhiban", pw)
        echo_user = await hs.register("echo", pw)
        client_user = await hs.register("client", pw)
        config = root / "zhiban.toml"
        write_config(
            config,
            {
                "data_dir": str(root / "data"),
                "matrix": {"homeserver": hs.base_url, "user_id": bot_user, "password": pw, "e2ee": E2EE},
            },
        )
        env = {**os.environ, "ZHIBAN_CONFIG": str(config)}
        log = open(root / "bot.log", "ab")  # noqa: ASYNC230 - handed to the children
        bot = subprocess.Popen(  # noqa: ASYNC220 - long-lived children, not awaited
            [sys.executable, "-m", "zhiban.cli", "bot", "--config", str(config)], stdout=log, stderr=log, env=env
        )
        token, device = await hs.login(echo_user, pw)
        echo = subprocess.Popen(  # noqa: ASYNC220
            [sys.executable, "-m", "bench.echo_bot", hs.base_url, echo_user, token, device], stdout=log, stderr=log
        )
        procs += [bot, echo]

        client = Client(hs.base_url, client_user)
        await client.nio.login(pw)
        await client.nio.sync(timeout=0, full_state=True)
        client.nio.add_event_callback(client.on_text, nio.RoomMessageText)  # type: ignore[arg-type]
        client.nio.add_event_callback(client.on_member, nio.RoomMemberEvent)  # type: ignore[arg-type]
        sync = asyncio.create_task(client.nio.sync_forever(timeout=30_000))
        rooms = {}
        for name, user in (("zhiban", bot_user), ("echo", echo_user)):
            created = await client.nio.room_create(name=f"bench {name}", invite=[user])
            assert isinstance(created, nio.RoomCreateResponse), created
            client.joined[created.room_id] = asyncio.Event()
            rooms[name] = created.room_id
        for room_id in rooms.values():
            await asyncio.wait_for(client.joined[room_id].wait(), 120)
        await asyncio.sleep(2)  # the greeting and first syncs settle
        for _ in range(5):  # warm both paths
            await client.ping(rooms["zhiban"])
            await client.ping(rooms["echo"])
        bot_proc = psutil.Process(bot.pid)
        rss_idle = bot_proc.memory_info().rss / 2**20

        times: dict[str, list[float]] = {"zhiban": [], "echo": []}
        for i in range(n):
            order = ("zhiban", "echo") if i % 2 == 0 else ("echo", "zhiban")
            for name in order:
                times[name].append(await client.ping(rooms[name]))
        rss_load = bot_proc.memory_info().rss / 2**20
        sync.cancel()
        await client.nio.close()

        z50, z95 = pct(times["zhiban"], 0.5), pct(times["zhiban"], 0.95)
        e50, e95 = pct(times["echo"], 0.5), pct(times["echo"], 0.95)
        ratio = z50 / e50
        print(f"(a) command round trip through Synapse, {n} pings each, alternating")
        print(
            f"    bare nio echo bot:  p50 {e50:7.1f} ms   p95 {e95:7.1f} ms   mean {statistics.mean(times['echo']):7.1f}"
        )
        print(
            f"    zhiban bot:         p50 {z50:7.1f} ms   p95 {z95:7.1f} ms   mean {statistics.mean(times['zhiban']):7.1f}"
        )
        print(f"    ratio p50 zhiban/echo: {ratio:.2f}x   target ≤ 1.2x   {'PASS' if ratio <= 1.2 else 'FAIL'}")
        print("(c) bot memory (RSS)")
        print(
            f"    idle {rss_idle:6.1f} MB   after load {rss_load:6.1f} MB   target < 150 MB   "
            f"{'PASS' if max(rss_idle, rss_load) < 150 else 'FAIL'}"
        )
        return 0
    finally:
        for proc in procs:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        await hs.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=200)
    return asyncio.run(main_async(parser.parse_args().n))


if __name__ == "__main__":
    raise SystemExit(main())
