"""The homeserver comes back after an outage: how soon is the backlog delivered?

The bot (in-process `BotRuntime`, its own SQLite database) is in a few rooms. Synapse is
stopped; N messages are queued in the outbox across those rooms while it is down (a seventh of
them urgent, as alerts, orders and nags are), and the relay is left to fail on them for a
while, so that its retries are at their longest pause. Then Synapse is started again.

Measured from the moment Synapse answers again (its client API, as `LocalHomeserver.start`
waits for), with the outbox's own `sent_at` of each row:
- urgent: the last urgent row sent;
- all: the last of the N rows sent (target < 10 s).
Also: whether any row was given up (it must not be), and the bot's calls per second.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import secrets
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import nio
from sqlalchemy import select

from records import outbox
from records.config import load_settings
from records.db import Database
from records.models import OutboxMessage
from zhiban.bot_runner import BotRuntime
from zhiban.config_file import write_config
from zhiban.local.homeserver import LocalHomeserver

TARGET_S = 10.0


async def _rooms_with_bot(hs: LocalHomeserver, bot_user: str, password: str, count: int) -> list[str]:
    officer_user = await hs.register("officer", password)
    officer = nio.AsyncClient(hs.base_url, officer_user)
    await officer.login(password)
    rooms = []
    try:
        for i in range(count):
            created = await officer.room_create(name=f"office {i}", invite=[bot_user])
            assert isinstance(created, nio.RoomCreateResponse), created
            rooms.append(created.room_id)
        for room in rooms:
            for _ in range(600):
                members = await officer.joined_members(room)
                if isinstance(members, nio.JoinedMembersResponse) and any(
                    m.user_id == bot_user for m in members.members
                ):
                    break
                await asyncio.sleep(0.05)
            else:
                raise TimeoutError(f"the bot did not join {room}")
    finally:
        await officer.close()
    return rooms


async def _queue_backlog(db: Database, rooms: list[str], n: int) -> None:
    async with db.transaction() as session:
        for i in range(n):
            urgent = i % 7 == 6  # about one in seven, spread over the rooms, mid-lane as well as first
            body = f"{'urgent' if urgent else 'routine'} message {i}"
            await outbox.enqueue(
                session,
                outbox.text_content(body),
                room_id=rooms[i % len(rooms)],
                priority=outbox.URGENT if urgent else outbox.NORMAL,
            )


async def _delivery(db: Database) -> tuple[list[OutboxMessage], int, int]:
    """The rows, how many are sent, and how many were given up."""
    async with db.reading() as session:
        rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    return rows, sum(r.sent_at is not None for r in rows), sum(r.failed for r in rows)


def _epoch(moment: datetime) -> float:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


async def main_async(n: int, room_count: int, down: float) -> int:
    logging.basicConfig(level=logging.ERROR)
    root = Path(tempfile.mkdtemp(prefix="zhiban-bench-relay-recovery-"))
    hs = LocalHomeserver(root / "synapse")
    hs.prepare()
    await hs.start()
    runtime: BotRuntime | None = None
    task: asyncio.Task[None] | None = None
    try:
        password = secrets.token_urlsafe(10)
        bot_user = await hs.register("zhiban", password)
        config = root / "zhiban.toml"
        write_config(
            config,
            {
                "data_dir": str(root / "data"),
                "matrix": {"homeserver": hs.base_url, "user_id": bot_user, "password": password, "e2ee": False},
            },
        )
        settings = load_settings(config)
        runtime = BotRuntime(settings)
        task = asyncio.create_task(runtime.run())
        while runtime.client is None or not runtime.client.synced.is_set():
            if task.done():
                task.result()
            await asyncio.sleep(0.05)
        rooms = await _rooms_with_bot(hs, bot_user, password, room_count)
        await asyncio.sleep(1.0)  # the greetings go out before the outage
        db = Database(settings.database_url)
        _, before, _ = await _delivery(db)

        await hs.stop()
        await _queue_backlog(db, rooms, n)
        assert runtime.relay is not None
        runtime.relay.wake()
        await asyncio.sleep(down)  # the relay fails on them meanwhile: its retries reach their longest pause
        rows, sent, failed = await _delivery(db)
        assert sent == before, "nothing can be sent while the homeserver is down"
        await hs.start()
        back = time.time()

        while True:
            rows, sent, failed = await _delivery(db)
            if sent + failed == len(rows):
                break
            if time.time() - back > 300:
                raise TimeoutError(f"{sent - before}/{n} sent 300 s after the homeserver was back")
            await asyncio.sleep(0.1)
        await db.dispose()
        backlog = [r for r in rows[before:] if r.sent_at is not None]
        delays = sorted(_epoch(r.sent_at) - back for r in backlog if r.sent_at is not None)
        urgent = [_epoch(r.sent_at) - back for r in backlog if r.priority == outbox.URGENT and r.sent_at]
        total = delays[-1] if delays else float("nan")
        print(f"backlog of {n} messages in {room_count} rooms, queued while Synapse was down for {down:.0f} s")
        print(f"  given up                          {failed}")
        print(f"  first message sent                +{delays[0]:6.2f} s after Synapse answered again")
        print(f"  last urgent sent (in room order)  +{max(urgent):6.2f} s")
        print(f"  median message sent               +{statistics.median(delays):6.2f} s")
        print(f"  last message sent                 +{total:6.2f} s")
        print(
            f"  total {total:.2f} s   target < {TARGET_S:.0f} s   {'PASS' if total < TARGET_S and not failed else 'FAIL'}"
        )
        return 0
    finally:
        if runtime is not None and task is not None:
            runtime.stop()
            await asyncio.gather(task, return_exceptions=True)
        await hs.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=200, help="messages in the backlog")
    parser.add_argument("--rooms", type=int, default=10)
    parser.add_argument("--down", type=float, default=20.0, help="seconds Synapse stays down with the backlog queued")
    args = parser.parse_args()
    return asyncio.run(main_async(args.n, args.rooms, args.down))


if __name__ == "__main__":
    raise SystemExit(main())
