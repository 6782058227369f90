"""The bot's real path under a burst: events submitted as a sync batch hands them over.

Each event goes through `Dispatcher.submit` with the bot's concurrency (a batch of `--batch`
events from different people, awaited together), every feature's router, wizard state where
the bot keeps it (the database, in the turn) and the exactly-once transaction (ledger row,
outbox replies). Beside it, in the same run and round by round, the raw driver does the same
writes per event (BEGIN, ledger insert, outbox insert, COMMIT): sqlite3 on SQLite, asyncpg with
the same concurrency on PostgreSQL. The SQL statements the app path sends per event are
counted with an engine event listener (an executemany counts once).

Target: the app path at least 2,000 events/s on PostgreSQL; its ratio to raw is printed.

    python -m bench.exactly_once [--events 2000] [--batch 50] [--rounds 3] [--backends sqlite,postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event as sa_event

from bench import plans
from bench.timer_lateness import PG_ADMIN_URL, postgres_reachable, scratch_url
from bot.types import Event, Message, ReactionEvent
from records.config import Settings
from records.db import Database
from zhiban.app import build_dispatcher

TARGET_PG = 2000.0
_ids = itertools.count()
BODIES = ("!ping", "大家注意防汛值守", "!help ping", "收到", "!tz", "明天上午九点开会", "!pnig")


class NoHomeserver:
    """The bot client's parts a turn reads, as an empty room state gives them (no network)."""

    def power_level(self, room_id: str, user_id: str) -> int:
        return 0

    def members(self, room_id: str) -> dict[str, str | None]:
        return {}


def sync_batch(n: int, people: int) -> list[Event]:
    """A busy room's burst: commands, plain chat and reactions, from `people` senders."""
    events: list[Event] = []
    for i in range(n):
        common: dict[str, Any] = {
            "room_id": "!room:bench",
            "event_id": f"$b{next(_ids)}",
            "sender": f"@user{i % people}:bench",
            "timestamp_ms": 0,
            "source": {},
        }
        if i % 5 == 4:
            events.append(ReactionEvent(**common, key="👍", reacts_to="$somewhere"))
        else:
            events.append(Message(**common, body=BODIES[i % len(BODIES)]))
    return events


@contextmanager
def counting(db: Database) -> Iterator[list[int]]:
    """The statements the engine sends meanwhile (BEGIN and COMMIT are not cursor executions)."""
    count = [0]

    def before(*_args: object) -> None:
        count[0] += 1

    sa_event.listen(db.engine.sync_engine, "before_cursor_execute", before)
    try:
        yield count
    finally:
        sa_event.remove(db.engine.sync_engine, "before_cursor_execute", before)


async def app_path(url: str, n: int, batch: int, *, inspect: bool = False) -> tuple[float, float]:
    """Events per second through `submit`, and SQL statements per event.

    `inspect` (PostgreSQL): once the pool's connections have each prepared what they send, a
    second pass records the statements, how many had to be prepared again, and their plans."""
    db = Database(url)  # the production pool and statement cache (records.config.DatabaseSettings)
    settings = Settings(data_dir=Path(tempfile.mkdtemp()))
    dispatcher = build_dispatcher(settings, db, extra_context={"client": NoHomeserver()})

    async def submit_all(events: list[Event]) -> None:
        for i in range(0, len(events), batch):
            futures = [dispatcher.submit(e, {"client": NoHomeserver()}) for e in events[i : i + batch]]
            await asyncio.gather(*futures)

    with counting(db) as count:
        start = time.perf_counter()
        await submit_all(sync_batch(n, batch))
        elapsed = time.perf_counter() - start
    if inspect:
        with plans.recording(db) as seen:
            await submit_all(sync_batch(n, batch))
        print(f"  postgres, a second pass of {n} events after the last round:")
        print(
            f"          prepared statements: {seen.prepares} prepared for {seen.executions} sent "
            f"({seen.executions - seen.prepares} reused a connection's prepared statement: one round trip, not two)"
        )
        print("          plans of the statements that read rows (sequential scans off: a scan left means no index)")
        await plans.print_plans(db, seen)
    await dispatcher.wait_idle()
    await db.dispose()
    return n / elapsed, count[0] / n


def _reply(i: int) -> str:
    return json.dumps({"msgtype": "m.notice", "body": f"pong {i}"})


def raw_sqlite(path: str, n: int) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    now = datetime.now(UTC).isoformat()
    start = time.perf_counter()
    for i in range(n):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "INSERT INTO handled_events (event_id, room_id, handled_at) VALUES (?, ?, ?)",
            (f"$r{next(_ids)}", "!r", now),
        )
        conn.execute(
            "INSERT INTO outbox (created_at, room_id, event_type, content, attempts, failed, priority) "
            "VALUES (?, ?, 'm.room.message', ?, 0, 0, 0)",
            (now, "!r", _reply(i)),
        )
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return n / elapsed


async def raw_asyncpg(url: str, n: int, batch: int) -> float:
    import asyncpg

    pool = await asyncpg.create_pool(url, min_size=batch // 5 or 1, max_size=batch // 5 or 1)
    now = datetime.now(UTC)

    async def one(i: int) -> None:
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO handled_events (event_id, room_id, handled_at) VALUES ($1, $2, $3)",
                f"$r{next(_ids)}",
                "!r",
                now,
            )
            await conn.execute(
                "INSERT INTO outbox (created_at, room_id, event_type, content, attempts, failed, priority) "
                "VALUES ($1, $2, 'm.room.message', $3::json, 0, false, 0)",
                now,
                "!r",
                _reply(i),
            )

    start = time.perf_counter()
    for i in range(0, n, batch):
        await asyncio.gather(*(one(j) for j in range(i, min(n, i + batch))))
    elapsed = time.perf_counter() - start
    await pool.close()
    return n / elapsed


async def run_backend(backend: str, n: int, batch: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with scratch_url(backend, Path(tmp), "exactly_once") as url:
            apps: list[float] = []
            raws: list[float] = []
            statements: list[float] = []
            for round_ in range(rounds):
                # Alternate the variants round by round, so that a busy neighbour hurts both.
                inspect = backend == "postgres" and round_ == rounds - 1
                rate, per_event = await app_path(url, n, batch, inspect=inspect)
                apps.append(rate)
                statements.append(per_event)
                if backend == "sqlite":
                    raws.append(await asyncio.to_thread(raw_sqlite, url.split(":///", 1)[1], n))
                else:
                    raws.append(await raw_asyncpg(url, n, batch))
    app, raw = statistics.median(apps), statistics.median(raws)
    driver = "sqlite3" if backend == "sqlite" else "asyncpg"
    print(f"  {backend}: app path (submit, {batch} at once) {app:8,.0f} events/s   raw {driver} {raw:8,.0f} events/s")
    print(f"          ratio app/raw {app / raw:.2f}   SQL statements per event {statistics.median(statements):.1f}")
    if backend == "postgres":
        verdict = "PASS" if app >= TARGET_PG else "FAIL"
        print(f"          target ≥ {TARGET_PG:,.0f} events/s on PostgreSQL: {app:,.0f}  {verdict}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    print(f"(e) the bot's real path, {args.events} events per round, median of {args.rounds} rounds")
    for backend in args.backends.split(","):
        if backend == "postgres" and not asyncio.run(postgres_reachable()):
            print(f"  postgres: not reachable at {PG_ADMIN_URL}; skipped")
            continue
        asyncio.run(run_backend(backend, args.events, args.batch, args.rounds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
