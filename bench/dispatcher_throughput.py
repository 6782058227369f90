"""Dispatcher throughput in process: events per second through routers and middlewares.

Two paths, side by side in one run:
  framework  the dispatcher with every feature's routers, replies recorded in memory
  app        the same plus the application's exactly-once middleware on SQLite (each event
             a transaction with its ledger row and outbox replies), i.e. what the bot does
The mix is what a busy office room looks like: commands, plain chat and reactions.
Target: the framework path at least 5,000 events/s on one core.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.exactly_once import NoHomeserver
from bot.fsm import MemoryStorage
from bot.outbound import Sent, current_outbound
from bot.types import Event, Message, ReactionEvent
from records.config import Settings
from records.db import Database
from records.migrate import upgrade
from zhiban.app import build_dispatcher

_ids = itertools.count()


class NullOutbound:
    async def send(
        self, room_id: str, content: dict[str, Any], *, event_type: str = "", ref: str | None = None
    ) -> Sent:
        return Sent(room_id, "$x")

    async def redact(self, room_id: str, event_id: str, reason: str | None = None) -> None:
        return None


def make_events(n: int) -> list[Event]:
    bodies = ["!ping", "大家注意防汛值守", "!help ping", "收到", "!tz", "明天上午九点开会", "!pnig"]
    events: list[Event] = []
    for i in range(n):
        sender = f"@user{i % 50}:bench"
        if i % 5 == 4:
            events.append(
                ReactionEvent(
                    room_id="!room:bench",
                    event_id=f"$e{next(_ids)}",
                    sender=sender,
                    timestamp_ms=0,
                    source={},
                    key="👍",
                    reacts_to="$somewhere",
                )
            )
        else:
            events.append(
                Message(
                    room_id="!room:bench",
                    event_id=f"$e{next(_ids)}",
                    sender=sender,
                    timestamp_ms=0,
                    source={},
                    body=bodies[i % len(bodies)],
                )
            )
    return events


async def run(path: str, n: int, db_url: str) -> float:
    settings = Settings(data_dir=Path(tempfile.mkdtemp()))
    db = Database(db_url)
    # The framework path keeps wizard state in memory; the app's is in the database, in the turn.
    if path == "framework":
        dispatcher = build_dispatcher(settings, db, storage=MemoryStorage())
    else:
        # The app's handlers take a turn, which needs a bot client: one with no homeserver.
        dispatcher = build_dispatcher(settings, db, extra_context={"client": NoHomeserver()})
    if path == "framework":
        dispatcher.outer_middlewares.clear()
        dispatcher.report_errors = True

        async def preferences(handler: Any, event: Event, data: dict[str, Any]) -> Any:
            # What the app's middleware would look up, without the database.
            data["tz"] = "Asia/Shanghai"
            data["session"] = None
            return await handler(event, data)

        dispatcher.outer_middleware(preferences)
    token = current_outbound.set(NullOutbound())
    events = make_events(n)
    start = time.perf_counter()
    for event in events:
        await dispatcher.feed(event)
    elapsed = time.perf_counter() - start
    current_outbound.reset(token)
    await db.dispose()
    return n / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20_000)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    url = f"sqlite:///{tmp / 'bench.db'}"
    upgrade(url)
    framework = asyncio.run(run("framework", args.n, url))
    app = asyncio.run(run("app", max(1000, args.n // 10), url))
    print("(b) dispatcher throughput, one core, no network")
    print(f"    framework (routers + filters + FSM + i18n):        {framework:10,.0f} events/s  target ≥ 5,000")
    print(f"    app (plus exactly-once ledger + outbox on SQLite):  {app:10,.0f} events/s")
    print(f"    ratio framework/app: {framework / app:.1f}x   {'PASS' if framework >= 5000 else 'FAIL'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
