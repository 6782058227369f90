"""Web Push on the production path, over TLS: notify() → push.send timers → `zhiban worker` → push service.

1. Production path, for each database (SQLite, PostgreSQL) and each fan-out size (`--sizes`,
   default 1,000 and 10,000 people with one device each), sizes alternating round by round:
   the real `notify()` writes the notice, its deliveries and its push.send timers in one
   transaction; the bench then wakes the workers as the bot does after a commit (the TIMERS
   wake-up); `--workers` real `zhiban worker --config FILE` processes (default 2) claim the
   timers, send through their kept WebPushSender and record the outcomes. The rate is the
   fan-out's size over the time from the commit to the last delivery recorded as delivered
   (read from the database). Target ≥ 2,000 msg/s. Beside it, the CPU per message that the
   workers and the fake service used (from /proc), which the machine's other load moves far
   less than the wall figures, set against the sender alone's.
2. The sender alone beside pywebpush's own async API (`webpush_async`, one shared aiohttp
   session), in this process, at the same concurrency (`--in-flight`), alternating round by
   round over `--sender-n` messages. Target ≥ 2×.

The in-repo fake push service runs in its own process, over https with a certificate made for
it (trusted through SSL_CERT_FILE), in "fast mode" (it decrypts one message in 100). The cores
are shared by the fake, the workers, the database and this process, so the figures are
conservative.

    python -m bench.push_production [--sizes 1000,10000] [--rounds 2] [--workers 2] [--backends sqlite,postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp
import redis as redis_lib
from rq import Queue, Worker
from sqlalchemy import func, insert, select

from bench.timer_lateness import PG_ADMIN_URL, postgres_reachable, scratch_url
from notifications.models import Delivery, PushSubscription
from notifications.notice import NoticeSpec
from notifications.service import notify
from notifications.webpush import (
    Allowlist,
    PushItem,
    Subscription,
    Urgency,
    VapidSigner,
    WebPushSender,
    generate_vapid_keys,
)
from records.clock import SystemClock
from records.config import Settings
from records.db import Database
from zhiban.redis_conn import EmbeddedRedis
from zhiban.wakeup import TIMERS, WakeBus

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "notifications"))
import fake_push_service  # noqa: E402

SUBJECT = "mailto:bench@zhiban.example.org"
RATE_TARGET = 2000.0
RATIO_TARGET = 2.0
NOTICE = NoticeSpec(kind="alert", title={"zh": "汛情预警", "en": "Flood warning"}, body="请立即到岗")


def worker_settings(tmp: Path, url: str, redis_url: str, private: str, public: str, in_flight: int) -> Settings:
    return Settings.model_validate(
        {
            "data_dir": tmp / "data",
            "database": {"url": url},
            "redis": {"url": redis_url, "queue": f"push-{secrets.token_hex(3)}"},
            "server": {"public_url": "https://zhiban.example.org", "secret_key": "bench-secret-" + "x" * 20},
            "push": {
                "vapid_private_key": private,
                "vapid_public_key": public,
                "vapid_subject": SUBJECT,
                "allow_insecure_loopback": True,
                "max_in_flight": in_flight,
            },
        }
    )


def write_config(path: Path, settings: Settings) -> Path:
    push = settings.push
    path.write_text(
        f'data_dir = "{settings.data_dir}"\n'
        f'[database]\nurl = "{settings.database.url}"\n'
        f'[redis]\nurl = "{settings.redis.url}"\nqueue = "{settings.redis.queue}"\n'
        f'[server]\npublic_url = "{settings.server.public_url}"\nsecret_key = "{settings.server.secret_key}"\n'
        f'[push]\nvapid_private_key = "{push.vapid_private_key}"\nvapid_public_key = "{push.vapid_public_key}"\n'
        f'vapid_subject = "{push.vapid_subject}"\nallow_insecure_loopback = true\nmax_in_flight = {push.max_in_flight}\n'
    )
    return path


async def add_devices(db: Database, subs: list[dict[str, Any]]) -> list[str]:
    users = [f"@p{i}:office.example" for i in range(len(subs))]
    rows = [
        {
            "user_id": user,
            "endpoint": sub["endpoint"],
            "p256dh": sub["keys"]["p256dh"],
            "auth": sub["keys"]["auth"],
            "created_at": datetime.now(UTC),
        }
        for user, sub in zip(users, subs, strict=True)
    ]
    async with db.transaction() as session:
        for start in range(0, len(rows), 5_000):
            await session.execute(insert(PushSubscription), rows[start : start + 5_000])
    return users


@dataclass
class FanOut:
    rate: float  # msg/s from the commit to the last delivery recorded
    delivered: int
    worker_cpu_us: float  # CPU of every worker per message (pump, jobs, sending, recording)
    service_cpu_us: float  # CPU of the fake push service per message


async def fan_out(db: Database, settings: Settings, wake: WakeBus, users: list[str], pids: Pids) -> FanOut:
    """notify() to `users`, then wait for the workers until the last delivery is recorded."""
    async with db.transaction() as session:
        result = await notify(session, users, NOTICE, clock=SystemClock(), settings=settings)
    committed = datetime.now(UTC)
    workers_before, service_before = cpu_seconds(pids.workers), cpu_seconds([pids.service])
    await wake.publish(TIMERS)  # what the bot does after a commit that scheduled timers
    deadline = time.monotonic() + 60 + len(users) / 100
    delivered = 0
    while time.monotonic() < deadline:
        async with db.reading() as session:
            delivered = (
                await session.scalar(
                    select(func.count()).where(Delivery.notice_id == result.notice_id, Delivery.status == "delivered")
                )
                or 0
            )
        if delivered >= len(users):
            break
        await asyncio.sleep(0.05)
    per_message = 1e6 / len(users)
    worker_cpu = (cpu_seconds(pids.workers) - workers_before) * per_message
    service_cpu = (cpu_seconds([pids.service]) - service_before) * per_message
    async with db.reading() as session:
        last = await session.scalar(
            select(func.max(Delivery.delivered_at)).where(Delivery.notice_id == result.notice_id)
        )
    if last is None or delivered < len(users):
        return FanOut(0.0, delivered, worker_cpu, service_cpu)
    rate = len(users) / max(1e-6, (last - committed).total_seconds())
    return FanOut(rate, delivered, worker_cpu, service_cpu)


@dataclass
class Pids:
    service: int
    workers: list[int] = field(default_factory=list)


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds the processes `pids` have used so far (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def start_workers(config: Path, count: int, cert: Path, log: Path) -> list[subprocess.Popen[bytes]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZHIBAN_")}
    env["SSL_CERT_FILE"] = str(cert)  # the fake push service's certificate, as a real CA would be
    with log.open("ab") as out:
        return [
            subprocess.Popen(
                [sys.executable, "-m", "zhiban.cli", "worker", "--config", str(config)],
                cwd=config.parent,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
            )
            for _ in range(count)
        ]


async def all_listening(redis_url: str, queue: str, count: int, workers: list[subprocess.Popen[bytes]]) -> None:
    """Wait until every worker listens on the queue (the pump shares a burst among those)."""
    connection = redis_lib.Redis.from_url(redis_url)
    deadline = time.monotonic() + 120
    try:
        while Worker.count(connection=connection, queue=Queue(queue, connection=connection)) < count:
            if time.monotonic() > deadline or any(w.poll() is not None for w in workers):
                raise RuntimeError("the workers did not start")
            await asyncio.sleep(0.2)
    finally:
        connection.close()


async def production(
    backend: str, subs: list[dict[str, Any]], cert: Path, args: argparse.Namespace, sizes: list[int], service: int
) -> dict[int, list[FanOut]]:
    rates: dict[int, list[FanOut]] = {}
    private, public = generate_vapid_keys()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        redis = EmbeddedRedis(tmp / "redis-data")
        redis_url = redis.start()
        workers: list[subprocess.Popen[bytes]] = []
        try:
            async with scratch_url(backend, tmp, "push") as url:
                settings = worker_settings(tmp, url, redis_url, private, public, args.in_flight)
                db = Database(url)
                wake = WakeBus(redis_url, settings.redis.queue)
                try:
                    users = await add_devices(db, subs)
                    workers = start_workers(
                        write_config(tmp / "zhiban.toml", settings), args.workers, cert, tmp / "w.log"
                    )
                    await all_listening(redis_url, settings.redis.queue, args.workers, workers)
                    pids = Pids(service, [w.pid for w in workers])
                    warm = await fan_out(db, settings, wake, users[:50], pids)  # handlers loaded, TLS pools open
                    if not warm.rate:
                        raise RuntimeError(f"the workers sent nothing; see {tmp / 'w.log'}")
                    for r in range(args.rounds):
                        for size in sizes if r % 2 == 0 else list(reversed(sizes)):
                            run = await fan_out(db, settings, wake, users[:size], pids)
                            rates.setdefault(size, []).append(run)
                            print(
                                f"  {backend} {size:>6,} round {r + 1}: {run.rate:7,.0f} msg/s"
                                f" ({run.delivered:,}/{size:,} delivered); CPU per message: workers"
                                f" {run.worker_cpu_us:,.0f} µs, fake service {run.service_cpu_us:,.0f} µs",
                                flush=True,
                            )
                finally:
                    await wake.close()
                    await db.dispose()
        finally:
            for proc in workers:
                proc.terminate()
            for proc in workers:
                try:
                    proc.wait(timeout=30)  # a warm shutdown lets the running job finish
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            redis.stop()
    return rates


async def ours(subs: list[dict[str, Any]], payload: bytes, private: str, in_flight: int) -> tuple[float, float]:
    """(msg/s, CPU µs per message in this process)."""
    items = [PushItem(Subscription.from_json(s), payload, ttl=3600, urgency=Urgency.HIGH) for s in subs]
    signer = VapidSigner(private, SUBJECT)
    async with WebPushSender(signer, Allowlist(allow_insecure_loopback=True), max_in_flight=in_flight) as sender:
        started, cpu = time.perf_counter(), time.process_time()
        outcomes = await sender.send_many(items)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    ok = sum(o.ok for o in outcomes)
    return ok / wall, cpu * 1e6 / max(1, ok)


async def pywebpush_async(
    subs: list[dict[str, Any]], payload: bytes, private: str, in_flight: int
) -> tuple[float, float]:
    """pywebpush's own async API, one shared session, `in_flight` requests at a time."""
    from pywebpush import WebPushException, webpush_async

    text = payload.decode()
    gate = asyncio.Semaphore(in_flight)

    async def one(session: aiohttp.ClientSession, sub: dict[str, Any]) -> bool:
        async with gate:
            try:
                response = await webpush_async(
                    sub,
                    data=text,
                    vapid_private_key=private,
                    vapid_claims={"sub": SUBJECT},
                    ttl=3600,
                    timeout=30,
                    aiohttp_session=session,
                )
            except WebPushException:
                return False
            if isinstance(response, aiohttp.ClientResponse):
                response.release()  # give the connection back to the pool, as a careful caller would
                return response.status < 300
            return False

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=in_flight)) as session:
        started, cpu = time.perf_counter(), time.process_time()
        oks = await asyncio.gather(*(one(session, s) for s in subs))
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    return sum(oks) / wall, cpu * 1e6 / max(1, sum(oks))


def _sender_process(
    variant: str, subs: list[dict[str, Any]], payload: bytes, private: str, in_flight: int, conn: Connection
) -> None:
    run = ours if variant == "ours" else pywebpush_async
    conn.send(asyncio.run(run(subs, payload, private, in_flight)))


def sender_round(
    ctx: Any, variant: str, subs: list[dict[str, Any]], payload: bytes, private: str, in_flight: int
) -> tuple[float, float]:
    """One round of one sender in a fresh process: (msg/s delivered, CPU µs per message)."""
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_sender_process, args=(variant, subs, payload, private, in_flight, child))
    proc.start()
    rate, cpu = parent.recv()
    proc.join(timeout=30)
    return float(rate), float(cpu)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="`zhiban worker` processes")
    parser.add_argument("--in-flight", type=int, default=64, help="requests in flight per sender")
    parser.add_argument("--sender-n", type=int, default=4000, help="messages per sender-alone round")
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    ctx = mp.get_context("spawn")
    tls_name = tempfile.mkdtemp(prefix="zhiban-push-tls-")
    try:
        service_conn, child_conn = ctx.Pipe()
        service = ctx.Process(
            target=fake_push_service.serve_in_process,
            args=(child_conn, max(*sizes, args.sender_n), 100, tls_name),
            daemon=True,
        )
        service.start()
        try:
            if not service_conn.poll(120):
                raise RuntimeError("the fake push service did not start")
            origin, subs = service_conn.recv()
            cert = Path(tls_name) / "cert.pem"
            # Trusted as a real CA would be, by the processes started from here on (aiohttp reads
            # SSL_CERT_FILE when it is imported, so the sender rounds run in fresh processes).
            os.environ["SSL_CERT_FILE"] = str(cert)
            print(f"fake push service at {origin} (TLS); {os.cpu_count()} CPUs shared by everything below")
            results: dict[str, dict[int, list[FanOut]]] = {}
            for backend in args.backends.split(","):
                if backend == "postgres" and not asyncio.run(postgres_reachable()):
                    print(f"postgres: not reachable at {PG_ADMIN_URL}; skipped")
                    continue
                results[backend] = asyncio.run(production(backend, subs, cert, args, sizes, service.pid or 0))

            payload = (b'{"kind":"alert","title":"flood warning","url":"/n/1"}' + b" " * 200)[:200]
            private, _public = generate_vapid_keys()
            sample = subs[: args.sender_n]
            mine: list[float] = []
            theirs: list[float] = []
            mine_cpu: list[float] = []
            for r in range(args.rounds):
                for variant in ("ours", "pywebpush") if r % 2 == 0 else ("pywebpush", "ours"):
                    rate, cpu = sender_round(ctx, variant, sample, payload, private, args.in_flight)
                    (mine if variant == "ours" else theirs).append(rate)
                    if variant == "ours":
                        mine_cpu.append(cpu)
            service_conn.send("stop")
            stats = service_conn.recv()
        finally:
            service.join(timeout=10)
            if service.is_alive():
                service.terminate()
    finally:
        shutil.rmtree(tls_name, ignore_errors=True)

    print(
        f"push through notify() → push.send timers → {args.workers} workers, over TLS (median of {args.rounds} rounds):"
    )
    sender_cpu = statistics.median(mine_cpu)
    cores = os.cpu_count() or 1
    for backend, rates in results.items():
        for size in sizes:
            runs: list[FanOut] = rates[size]
            rate = statistics.median([one.rate for one in runs])
            worker_cpu = statistics.median([one.worker_cpu_us for one in runs])
            service_cpu = statistics.median([one.service_cpu_us for one in runs])
            verdict = "met" if rate >= RATE_TARGET else "MISSED"
            print(
                f"  {backend:<9}{size:>7,} people: {rate:7,.0f} msg/s  (target ≥ {RATE_TARGET:,.0f}: {verdict});"
                f" {rate / statistics.median(mine):.2f}× the sender alone in one process in this run"
            )
            # Wall figures move with whatever else the machine runs; CPU per message does not
            # (much): the workers' cost beside the sender's own is what the path adds.
            print(
                f"{'':13}CPU per message: workers {worker_cpu:,.0f} µs = {worker_cpu / sender_cpu:.2f}× the sender"
                f" alone's {sender_cpu:,.0f} µs; fake service {service_cpu:,.0f} µs; both on"
                f" {cores} free cores would allow {cores * 1e6 / (worker_cpu + service_cpu):,.0f} msg/s"
            )
    ratio = statistics.median(mine) / statistics.median(theirs)
    print(
        f"sender alone, {args.sender_n:,} messages, {args.in_flight} in flight, one process, TLS: WebPushSender"
        f" {statistics.median(mine):,.0f} msg/s beside pywebpush webpush_async {statistics.median(theirs):,.0f} msg/s"
        f" = {ratio:.2f}× (target ≥ {RATIO_TARGET:g}×: {'met' if ratio >= RATIO_TARGET else 'MISSED'})"
    )
    print(f"  fake service: {stats['delivered']:,} accepted, errors {stats['errors'][:3]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
