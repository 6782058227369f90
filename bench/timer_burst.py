"""Timers that all come due at once (09:00 on Monday): through the real worker and rq, and in process.

For each database (SQLite, PostgreSQL) and each burst size (`--sizes`, default 1,000 and
10,000), the same burst runs round by round through three paths, alternating:

  rq        the production path: a real `zhiban worker --config FILE` process (its pump claims
            batches and queues one rq job per batch; its SimpleWorker runs the job in the
            process's one event loop, with the pooled engine);
  batch     the same pump and batch run (records.timers.run_batch) in this process, no Redis:
            the bound the rq path is held to (target: rq no slower than 1.5× it);
  one-by-one the pump handing one timer at a time to run_timer in this process (what the
            worker's jobs did per timer before batches), for reference, up to 1,000.

A timer's lateness is its done mark minus its due time, read from the database, so every path
is measured the same way. Wall time is noisy on a shared machine, so each round also prints
the CPU seconds the path spent (this process's, plus the worker process's on the rq path; the
database server's own is not counted), a figure that load on the machine barely moves. Each path has its own scratch database; the timers have a trivial
handler so that what is measured is the machinery. Target: p99 < 2 s for 1,000 on the rq path.

    python -m bench.timer_burst [--sizes 1000,10000] [--rounds 2] [--backends sqlite,postgres]
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
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bench.timer_lateness import PG_ADMIN_URL, percentile, postgres_reachable, scratch_url
from records.clock import Clock, SystemClock
from records.db import Database
from records.models import Timer
from records.timers import Claim, Fired, TimerPump, TimerRegistry, run_batch, run_timer
from zhiban.redis_conn import EmbeddedRedis

KIND = "bench.burst"
P99_TARGET_S = 2.0  # for 1,000 due at once, on the rq path
RATIO_TARGET = 1.5  # rq p99 at most this times the in-process batch path's
LEAD_S = 3.0  # the burst comes due this long after it is written
VARIANTS = ("rq", "batch", "one-by-one")
ONE_BY_ONE_MAX = 1000  # the reference path runs only bursts this large (0: not at all)
# (path, burst size) → the lateness of each timer, one list per round.
Results = dict[tuple[str, int], list[list[float]]]
# (path, burst size) → the CPU seconds of each round.
CpuTimes = dict[tuple[str, int], list[float]]

# The worker process: the bench's timer kind gets a trivial handler, then the CLI as installed.
_WORKER = """
import runpy, sys
import records.timers as timers
_get = timers.TimerRegistry.get

async def _noop(session, timer, clock):
    return None

timers.TimerRegistry.get = lambda self, kind: _noop if kind == "bench.burst" else _get(self, kind)
sys.argv = ["zhiban", "worker", "--config", sys.argv[1]]
runpy.run_module("zhiban.cli", run_name="__main__")
"""


async def schedule_burst(db: Database, count: int, due: datetime, tag: str) -> None:
    rows = [
        {
            "kind": KIND,
            "key": f"bench:burst:{tag}:{i}",
            "due_at": due,
            "payload": {},
            "status": "pending",
            "attempts": 0,
            "created_at": datetime.now(UTC),
        }
        for i in range(count)
    ]
    async with db.transaction() as session:
        for start in range(0, count, 5_000):
            await session.execute(insert(Timer), rows[start : start + 5_000])


async def wait_done(db: Database, tag: str, count: int, within: float) -> list[float]:
    """Lateness (done − due, seconds) of the burst's timers, once all are done or `within` passed."""
    deadline = time.monotonic() + within
    prefix = f"bench:burst:{tag}:"
    while True:
        async with db.reading() as session:
            done = await session.scalar(
                select(func.count()).where(Timer.key.startswith(prefix), Timer.status == "done")
            )
        if done == count or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    async with db.reading() as session:
        rows = await session.execute(
            select(Timer.due_at, Timer.done_at).where(Timer.key.startswith(prefix), Timer.status == "done")
        )
        return [(done_at - due_at).total_seconds() for due_at, done_at in rows if done_at is not None]


def registry() -> TimerRegistry:
    reg = TimerRegistry()

    @reg.register(KIND)
    async def noop(session: AsyncSession, timer: Timer, clock: Clock) -> Fired | None:
        return None

    return reg


async def in_process_round(url: str, count: int, tag: str, *, batched: bool) -> list[float]:
    db = Database(url)
    clock, reg = SystemClock(), registry()

    async def one(timer_id: int) -> None:
        await run_timer(db, timer_id, reg, clock)

    async def batch(claim: Claim) -> None:
        await run_batch(db, claim.ids, reg, clock, token=claim.token)

    pump = TimerPump(db, clock, batch_transport=batch) if batched else TimerPump(db, clock, one)
    runner = asyncio.create_task(pump.run())
    try:
        await schedule_burst(db, count, datetime.now(UTC) + timedelta(seconds=LEAD_S), tag)
        pump.wake()
        return await wait_done(db, tag, count, within=LEAD_S + 30 + count / 50)
    finally:
        pump.stop()
        await runner
        await db.dispose()


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def rq_round(url: str, count: int, tag: str) -> list[float]:
    db = Database(url)
    try:
        await schedule_burst(db, count, datetime.now(UTC) + timedelta(seconds=LEAD_S), tag)
        return await wait_done(db, tag, count, within=LEAD_S + 30 + count / 50)
    finally:
        await db.dispose()


def start_worker(tmp: Path, url: str, redis_url: str) -> subprocess.Popen[bytes]:
    config = tmp / "worker.toml"
    config.write_text(
        f'data_dir = "{tmp / "data"}"\n[database]\nurl = "{url}"\n'
        f'[redis]\nurl = "{redis_url}"\nqueue = "burst-{secrets.token_hex(3)}"\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZHIBAN_")}
    log = (tmp / "worker.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-c", _WORKER, str(config)], cwd=tmp, stdout=log, stderr=subprocess.STDOUT, env=env
    )


async def worker_ready(url: str, proc: subprocess.Popen[bytes]) -> None:
    """Wait until the worker fires a first timer (its handlers loaded, its pump running)."""
    db = Database(url)
    try:
        await schedule_burst(db, 1, datetime.now(UTC), "warm-up")
        deadline = time.monotonic() + 120
        while not await wait_done(db, "warm-up", 1, within=0):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the worker did not start; see worker.log")
            await asyncio.sleep(0.2)
    finally:
        await db.dispose()


async def run_backend(
    backend: str, sizes: list[int], rounds: int, one_by_one_max: int = ONE_BY_ONE_MAX
) -> tuple[Results, CpuTimes]:
    results: Results = {}
    cpu: CpuTimes = {}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        redis = EmbeddedRedis(tmp / "redis-data")
        redis_url = redis.start()
        worker: subprocess.Popen[bytes] | None = None
        try:
            async with AsyncExitStack() as stack:
                urls = {
                    v: await stack.enter_async_context(scratch_url(backend, tmp, v.replace("-", "_"))) for v in VARIANTS
                }
                worker = start_worker(tmp, urls["rq"], redis_url)
                await worker_ready(urls["rq"], worker)
                paths: dict[str, Callable[[int, str], Awaitable[list[float]]]] = {
                    "rq": lambda n, tag: rq_round(urls["rq"], n, tag),
                    "batch": lambda n, tag: in_process_round(urls["batch"], n, tag, batched=True),
                    "one-by-one": lambda n, tag: in_process_round(urls["one-by-one"], n, tag, batched=False),
                }
                for size in sizes:
                    for r in range(rounds):
                        # Alternate the order each round, so no path always runs on a warmer machine.
                        order = VARIANTS if r % 2 == 0 else tuple(reversed(VARIANTS))
                        for variant in order:
                            if variant == "one-by-one" and size > one_by_one_max:
                                continue  # minutes per round: the 1,000 figure says enough
                            began = time.process_time() + process_cpu(worker.pid)
                            late = await paths[variant](size, f"{size}-{r}")
                            # The idle worker's pump polls during the other paths' rounds too:
                            # charged to every path alike, a small constant.
                            spent = time.process_time() + process_cpu(worker.pid) - began
                            results.setdefault((variant, size), []).append(late)
                            cpu.setdefault((variant, size), []).append(spent)
                            print(
                                f"  {backend} {size:>6,} round {r + 1} {variant:<10} p99 {percentile(late, 0.99):6.2f} s"
                                f" ({len(late):,}/{size:,} fired)  cpu {spent:6.2f} s",
                                flush=True,
                            )
        finally:
            if worker is not None:
                worker.terminate()
                worker.wait(timeout=30)
            redis.stop()
    return results, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument(
        "--one-by-one-max", type=int, default=ONE_BY_ONE_MAX, help="largest burst the reference path runs (0: none)"
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"timers due at once, {args.rounds} rounds per path, alternating; lateness = done − due")
    ok = True
    for backend in args.backends.split(","):
        if backend == "postgres" and not asyncio.run(postgres_reachable()):
            print(f"postgres: not reachable at {PG_ADMIN_URL}; skipped")
            continue
        results, cpu = asyncio.run(run_backend(backend, sizes, args.rounds, args.one_by_one_max))
        for size in sizes:

            def p99(variant: str, size: int = size, results: Results = results) -> float:
                rounds = results[variant, size]
                return statistics.median(percentile(late, 0.99) if late else float("inf") for late in rounds)

            def fired(variant: str, size: int = size, results: Results = results) -> int:
                return min(len(late) for late in results[variant, size])

            rq, batch = p99("rq"), p99("batch")
            rq_cpu, batch_cpu = (statistics.median(cpu[v, size]) for v in ("rq", "batch"))
            single = f"{p99('one-by-one'):6.2f} s" if ("one-by-one", size) in results else "not run"
            ratio = rq / batch if batch > 0 else float("inf")
            complete = fired("rq") == size
            line = (
                f"{backend:<9}{size:>7,} due at once  p99 lateness (median of rounds): rq worker {rq:6.2f} s"
                f" ({fired('rq'):,}/{size:,} fired) | in process, batch {batch:6.2f} s | one by one {single}"
                f"  rq / in-process {ratio:4.2f}× (target ≤ {RATIO_TARGET:g}×: {'met' if ratio <= RATIO_TARGET else 'MISSED'})"
                f"  CPU s (median): rq {rq_cpu:.2f} | batch {batch_cpu:.2f} ({rq_cpu / max(batch_cpu, 1e-9):.2f}×)"
            )
            if size == 1000:
                met = complete and rq < P99_TARGET_S
                ok = ok and met
                line += f"  target rq p99 < {P99_TARGET_S:g} s: {'met' if met else 'MISSED'}"
            print(line)
    print("all targets met" if ok else "some targets MISSED")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
