"""The live board: from a commit to the change arriving at 200 open boards (target p95 < 1 s).

`zhiban server` runs as its own process (as in production) on a SQLite file, with an embedded
Redis for the wake-ups. `--clients` people (default 200) are signed in, each with one open
`/api/board/events` stream read by this process. Each round commits one notice to all of them
(`notifications.service.notify`, one transaction: what an `!alert` writes) and then publishes
the "board" wake-up, as the bot does after its commit; we time, for each stream, from the end
of the commit to the arrival of a board event that shows the new notice. The wake-up names
what the commit wrote (zhiban.board_change), as the bot's does; `--whole` sends it naming
nothing, so every board reads itself whole (the fan-out before wake-ups named anything).

Beside it, the baseline: one person's board read once over HTTP (`GET /api/board`) on the
same server, so the ratio says how many board reads' worth the fan-out costs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from notifications import sessions
from notifications.notice import NoticeSpec
from notifications.service import notify
from records.clock import SystemClock
from records.config import load_settings
from records.db import Database
from records.migrate import upgrade_async
from server.session import COOKIE, SessionSigner
from zhiban import board_change
from zhiban.config_file import write_config
from zhiban.redis_conn import EmbeddedRedis
from zhiban.wakeup import BOARD, WakeBus

TARGET_P95_S = 1.0
WAIT_S = 60.0  # a guard against a hang, not a target
SECRET = "bench-board-" + "s" * 24


@dataclass
class Arrivals:
    """How many streams have shown each marker; `all_in[marker]` is set when every one has."""

    streams: int
    counts: dict[str, int] = field(default_factory=dict)
    all_in: dict[str, asyncio.Event] = field(default_factory=dict)

    def saw(self, marker: str) -> None:
        self.counts[marker] = self.counts.get(marker, 0) + 1
        if self.counts[marker] == self.streams:
            self.event(marker).set()

    def event(self, marker: str) -> asyncio.Event:
        return self.all_in.setdefault(marker, asyncio.Event())


@dataclass
class Stream:
    user: str
    cookie: str
    seen: dict[str, float] = field(default_factory=dict)  # marker -> arrival (perf_counter)
    ready: asyncio.Event = field(default_factory=asyncio.Event)


async def follow(
    http: aiohttp.ClientSession, base: str, stream: Stream, markers: list[str], arrivals: Arrivals
) -> None:
    """Read one person's stream; note when each marker first shows in a board event."""
    headers = {"Cookie": f"{COOKIE}={stream.cookie}"}
    async with http.get(f"{base}/api/board/events", headers=headers) as response:
        response.raise_for_status()
        data: list[str] = []
        async for raw in response.content:
            line = raw.decode().rstrip("\n")
            if line.startswith("retry:"):
                stream.ready.set()  # the first answer is read: every later commit reaches us
            elif line.startswith("data:"):
                data.append(line[5:])
            elif not line and data:
                body, data = "".join(data), []
                now = time.perf_counter()
                for marker in markers:
                    if marker not in stream.seen and marker in body:
                        stream.seen[marker] = now
                        arrivals.saw(marker)


async def wait_up(base: str) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(600):
            try:
                async with http.get(f"{base}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("zhiban server did not start")


def spawn_server(config: Path, log_path: Path) -> subprocess.Popen[bytes]:
    """`zhiban server` as its own process, as in production; its output goes to `log_path`."""
    env = {**os.environ, "ZHIBAN_CONFIG": str(config)}
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "zhiban.cli", "server", "--config", str(config)], stdout=log, stderr=log, env=env
        )


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def run(clients: int, rounds: int, port: int, whole: bool = False) -> int:
    work = Path(tempfile.mkdtemp(prefix="zhiban-bench-board-"))
    redis = EmbeddedRedis(work)
    redis_url = redis.start()
    config = work / "zhiban.toml"
    write_config(
        config,
        {
            "data_dir": str(work),
            "database": {"url": f"sqlite:///{work / 'zhiban.db'}"},
            "redis": {"url": redis_url, "queue": "bench-board"},
            "server": {
                "public_url": f"http://127.0.0.1:{port}",
                "secret_key": SECRET,
                "host": "127.0.0.1",
                "port": port,
                "api_requests_per_minute": 1_000_000,
            },
        },
    )
    settings = load_settings(config)
    await upgrade_async(settings.database_url)
    db = Database(settings.database_url)
    clock = SystemClock()
    signer = SessionSigner.from_secret(SECRET, max_age=86400)
    streams: list[Stream] = []
    async with db.transaction() as session:
        for n in range(clients):
            user = f"@staff{n:03d}:office.bench"
            secret = await sessions.start(session, user, days=1, clock=clock)
            streams.append(Stream(user, signer.sign(user, int(clock.now().timestamp()), secret)))

    server = spawn_server(config, work / "server.log")
    base = f"http://127.0.0.1:{port}"
    bus = WakeBus(redis_url, "bench-board")
    markers = [f"演练通知 第{r}轮" for r in range(rounds + 1)]
    try:
        await wait_up(base)
        connector = aiohttp.TCPConnector(limit=0)
        timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
            # Baseline: one person's board, read once over HTTP (after a warm-up read).
            one = {"Cookie": f"{COOKIE}={streams[0].cookie}"}
            reads = []
            for i in range(21):
                started = time.perf_counter()
                async with http.get(f"{base}/api/board", headers=one) as response:
                    await response.read()
                if i:
                    reads.append(time.perf_counter() - started)
            arrivals = Arrivals(len(streams))
            readers = [asyncio.create_task(follow(http, base, s, markers, arrivals)) for s in streams]
            async with asyncio.timeout(WAIT_S):
                await asyncio.gather(*(s.ready.wait() for s in streams))
            latencies: list[float] = []
            server_cpu = 0.0
            for r in range(rounds + 1):  # round 0 warms up and is not counted
                cpu_before = cpu_seconds(server.pid)
                async with db.transaction() as session:
                    spec = NoticeSpec(kind="alert", title=markers[r], body="请各单位做好防汛准备。", dm="never")
                    await notify(session, [s.user for s in streams], spec, clock=clock, settings=settings)
                committed = time.perf_counter()
                change = board_change.named(session)
                await bus.publish(BOARD, "" if whole else change or "")
                async with asyncio.timeout(WAIT_S):
                    await arrivals.event(markers[r]).wait()
                if r:
                    latencies.extend(s.seen[markers[r]] - committed for s in streams)
                    server_cpu += cpu_seconds(server.pid) - cpu_before
                await asyncio.sleep(0.5)  # let the server settle between rounds
            for task in readers:
                task.cancel()
    finally:
        await bus.close()
        server.terminate()
        server.wait(timeout=30)
        await db.dispose()
        redis.stop()

    base_read = statistics.median(reads)
    p50, p95, worst = pct(latencies, 50), pct(latencies, 95), max(latencies)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    named = "naming nothing (every board read whole)" if whole else "naming what changed"
    print(f"{clients} open boards, {rounds} commits, {len(latencies)} arrivals (zhiban server on SQLite, own process)")
    print(f"  wake-ups {named}")
    print(f"  machine: {os.cpu_count()} cores, load average {load} (other work on the machine slows every figure)")
    print(
        f"  commit → change on every board   p50 {p50 * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms   max {worst * 1000:7.1f} ms"
    )
    print(f"  baseline: one board read (GET /api/board), median {base_read * 1000:.1f} ms")
    print(
        f"  server CPU per commit (all {clients} boards): {server_cpu / rounds * 1000:.0f} ms"
        " (the figure a busy machine does not inflate much)"
    )
    print(
        f"  p95 = {p95 / base_read:.0f}× one board read; target p95 < {TARGET_P95_S:.0f} s: {'met' if p95 < TARGET_P95_S else 'MISSED'}"
    )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--port", type=int, default=18391)
    parser.add_argument("--whole", action="store_true", help="wake-ups that name nothing (the baseline)")
    args = parser.parse_args()
    return asyncio.run(run(args.clients, args.rounds, args.port, args.whole))


if __name__ == "__main__":
    raise SystemExit(main())
