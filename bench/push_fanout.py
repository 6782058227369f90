"""Web Push fan-out benchmark: pywebpush's ``webpush()`` loop vs ``WebPushSender``.

Run: ``python bench/push_fanout.py [--n 10000]``. Loopback only, bounded in
count and time (well under two minutes with the defaults).

The fake push service runs in its own process in "fast mode": it verifies
each distinct VAPID token once, checks TTL and size for every message, and
decrypts only one message in ``--decrypt-every`` so it does not become the
bottleneck. Our sender runs in ``--workers`` processes (one event loop each,
default = CPU count) that each take a slice of the subscriptions. The
machine's cores are shared with the fake service, so the figures are
conservative.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import statistics
import sys
import time
from collections import Counter
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "notifications"))

import fake_push_service  # noqa: E402

from notifications.webpush import (  # noqa: E402
    Allowlist,
    PushItem,
    Subscription,
    Urgency,
    VapidSigner,
    WebPushSender,
    b64url_decode,
    encrypt_message,
    generate_vapid_keys,
)

SUBJECT = "mailto:bench@zhiban.example.org"
TARGET_RATIO = 5.0
TARGET_RATE = 2000.0


def _payload(size: int) -> bytes:
    """A JSON-ish notification padded with spaces to exactly ``size`` bytes (ASCII, so pywebpush gets str)."""
    text = b'{"kind":"approval","title":"leave request pending","id":"A-2024-0001","url":"/a/1"}'
    return (text + b" " * size)[:size]


def measure_crypto(subs: list[dict[str, Any]], payload: bytes, signer: VapidSigner) -> tuple[float, float]:
    """Seconds per message for encryption alone (with key decoding), and per JWT signature."""
    keys = [(s["keys"]["p256dh"], s["keys"]["auth"]) for s in subs]
    started = time.process_time()
    for p256dh, auth in keys:
        encrypt_message(payload, b64url_decode(p256dh), b64url_decode(auth))
    encrypt_cost = (time.process_time() - started) / len(keys)
    rounds = 2000
    started = time.process_time()
    for i in range(rounds):
        signer.sign_jwt("https://fcm.googleapis.com", 1_900_000_000 + i)
    return encrypt_cost, (time.process_time() - started) / rounds


def run_pywebpush(subs: list[dict[str, Any]], payload: bytes, private_key: str) -> dict[str, float]:
    """The straightforward pywebpush loop: one blocking call per subscription."""
    from pywebpush import WebPushException, webpush

    ok = 0
    text = payload.decode("utf-8")
    wall, cpu = time.perf_counter(), time.process_time()
    for sub in subs:
        try:
            # pywebpush mutates the claims dict (it adds aud/exp), so pass a fresh one each call.
            webpush(
                sub,
                data=text,
                vapid_private_key=private_key,
                vapid_claims={"sub": SUBJECT},
                ttl=3600,
                timeout=10,
            )
            ok += 1
        except WebPushException:
            pass
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"sent": len(subs), "ok": ok, "wall": wall, "cpu": cpu}


def _worker(
    subs: list[dict[str, Any]],
    payload: bytes,
    private_key: str,
    in_flight: int,
    barrier: Barrier,
    conn: Connection,
) -> None:
    """One sender process: own event loop, own sessions, its share of the subscriptions."""

    async def main() -> dict[str, Any]:
        signer = VapidSigner(private_key, SUBJECT)
        items = [
            PushItem(Subscription.from_json(s), payload, ttl=3600, urgency=Urgency.NORMAL, topic=None) for s in subs
        ]
        async with WebPushSender(
            signer, Allowlist(allow_insecure_loopback=True), max_in_flight=in_flight, timeout=30
        ) as sender:
            await asyncio.get_running_loop().run_in_executor(None, barrier.wait)
            cpu = time.process_time()
            outcomes = await sender.send_many(items)
            cpu = time.process_time() - cpu
        kinds = Counter(o.kind.value for o in outcomes)
        sample = next((o.detail for o in outcomes if not o.ok), "")
        return {
            "kinds": dict(kinds),
            "cpu": cpu,
            "sample_error": sample,
            "signatures": signer.signatures_made,
        }

    conn.send(asyncio.run(main()))


def run_ours(
    ctx: Any, subs: list[dict[str, Any]], payload: bytes, private_key: str, workers: int, in_flight: int
) -> dict[str, Any]:
    barrier = ctx.Barrier(workers + 1)
    procs, pipes = [], []
    for i in range(workers):
        parent, child = ctx.Pipe(duplex=False)
        share = subs[i::workers]
        proc = ctx.Process(target=_worker, args=(share, payload, private_key, in_flight, barrier, child))
        proc.start()
        procs.append(proc)
        pipes.append(parent)
    barrier.wait(timeout=60)
    started = time.perf_counter()
    results = [p.recv() for p in pipes]
    wall = time.perf_counter() - started
    for proc in procs:
        proc.join(timeout=10)
    kinds: Counter[str] = Counter()
    for r in results:
        kinds.update(r["kinds"])
    return {
        "wall": wall,
        "cpu": sum(r["cpu"] for r in results),
        "kinds": dict(kinds),
        "signatures": sum(r["signatures"] for r in results),
        "sample_error": next((r["sample_error"] for r in results if r["sample_error"]), ""),
    }


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000, help="subscriptions to fan out to (max 50000)")
    parser.add_argument("--baseline-n", type=int, default=1_000, help="pywebpush sample size")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--in-flight", type=int, default=64, help="max requests in flight per worker")
    parser.add_argument("--payload-bytes", type=int, default=200)
    parser.add_argument("--decrypt-every", type=int, default=100, help="fake service decrypts 1 in N")
    parser.add_argument("--rounds", type=int, default=3, help="repeat each measurement; medians are reported")
    args = parser.parse_args()
    n = max(1, min(args.n, 50_000))
    baseline_n = max(1, min(args.baseline_n, n, 5_000))
    rounds = max(1, min(args.rounds, 5))
    payload = _payload(args.payload_bytes)

    ctx = mp.get_context("spawn")
    service_conn, child_conn = ctx.Pipe()
    service = ctx.Process(
        target=fake_push_service.serve_in_process, args=(child_conn, n, args.decrypt_every), daemon=True
    )
    service.start()
    try:
        origin, subs = service_conn.recv()
        print(f"fake push service at {origin}; {n} subscriptions; payload {len(payload)} B")
        print(f"{os.cpu_count()} CPUs shared by the fake service and the senders; medians of {rounds} rounds")
        private_key, _public = generate_vapid_keys()
        signer = VapidSigner(private_key, SUBJECT)

        encrypt_cost, sign_cost = measure_crypto(subs, payload, signer)
        print(f"encrypt_message: {encrypt_cost * 1e3:.3f} ms/msg; VAPID JWT signature: {sign_cost * 1e3:.3f} ms")

        bases = [run_pywebpush(subs[:baseline_n], payload, private_key) for _ in range(rounds)]
        base_rate = statistics.median(b["ok"] / b["wall"] for b in bases)
        base_cpu = statistics.median(b["cpu"] / b["sent"] for b in bases)
        base_ok = min(b["ok"] for b in bases)
        print(
            f"pywebpush webpush() loop over {baseline_n}: {base_rate:,.0f} msgs/s "
            f"(min ok {base_ok}/{baseline_n}); {base_cpu * 1e3:.3f} CPU-ms/msg (client only)"
        )

        runs = [run_ours(ctx, subs, payload, private_key, args.workers, args.in_flight) for _ in range(rounds)]
        delivered = min(r["kinds"].get("delivered", 0) for r in runs)
        rates = [r["kinds"].get("delivered", 0) / r["wall"] for r in runs]
        rate = statistics.median(rates)
        cpu_per_msg = statistics.median(r["cpu"] / n for r in runs)
        print(
            f"WebPushSender, {args.workers} processes x {args.in_flight} in flight: {rate:,.0f} msgs/s "
            f"(rounds: {', '.join(f'{x:,.0f}' for x in rates)}); min delivered {delivered}/{n}"
        )
        print(f"  outcomes of the last round: {runs[-1]['kinds']}; JWTs signed per round: {runs[-1]['signatures']}")
        errors = [r["sample_error"] for r in runs if r["sample_error"]]
        if errors:
            print(f"  first non-delivered detail: {errors[0]}")
        print(
            f"  sender CPU: {cpu_per_msg * 1e3:.3f} CPU-ms/msg ({1 / cpu_per_msg:,.0f} msgs per CPU-second); "
            f"encryption is {encrypt_cost / cpu_per_msg:.0%} of it"
        )

        service_conn.send("stop")
        stats = service_conn.recv()
        per_msg = stats["cpu_seconds"] / max(stats["delivered"], 1)
        print(
            f"  fake service: {stats['delivered']} accepted, {stats['decrypted']} decrypted, "
            f"{per_msg * 1e3:.3f} CPU-ms/msg, errors {stats['errors'][:3]}"
        )
        ratio = rate / base_rate
        print(f"speed-up vs pywebpush: {ratio:.1f}x (target >= {TARGET_RATIO:.0f}x: {_verdict(ratio >= TARGET_RATIO)})")
        print(f"throughput: {rate:,.0f} msgs/s (target >= {TARGET_RATE:,.0f}: {_verdict(rate >= TARGET_RATE)})")
        return 0 if delivered == n and not stats["errors"] else 1
    finally:
        service.join(timeout=10)
        if service.is_alive():
            service.terminate()


if __name__ == "__main__":
    raise SystemExit(main())
