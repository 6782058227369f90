"""Declaring a grade Ⅰ incident with 100 responders, through a real Synapse.

A duty officer sends `!应急 启动 Ⅰ 自然灾害 城区内涝`; the bot (in-process `BotRuntime`, with its
own SQLite database) creates the incident room inviting everyone, pins the card, and DMs each
responder the alert through the outbox relay (one DM room per person, created on demand).

Measured (all clocks are this machine's):
- invited: the last responder's invite event in the incident room (its origin_server_ts);
- alerted: the last responder's DM row marked sent in the bot's outbox (sent_at).
Target: both under 10 s after the command is sent. The breakdown splits the wall time
into "some request to Synapse in flight" (the bot's HTTP calls, sync excluded, as a union of
intervals) and "Zhiban alone" (dispatch, database, outbox), and counts the calls by kind.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import secrets
import sqlite3
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import nio

from records.config import load_settings
from zhiban.bot_runner import BotRuntime
from zhiban.config_file import write_config
from zhiban.local.homeserver import LocalHomeserver

TARGET_S = 10.0


class SynapseMeter:
    """Wraps the bot's nio `send` to note when each request to Synapse was in flight."""

    def __init__(self, client: nio.AsyncClient) -> None:
        self.intervals: list[tuple[float, float, str]] = []
        original = client.send

        async def timed(method: str, path: str, *args: Any, **kwargs: Any) -> Any:
            if "/sync" in path:
                return await original(method, path, *args, **kwargs)
            start = time.time()
            try:
                return await original(method, path, *args, **kwargs)
            finally:
                self.intervals.append((start, time.time(), _kind(method, path)))

        client.send = timed  # type: ignore[method-assign]

    def busy_between(self, start: float, end: float) -> float:
        """Seconds of [start, end] with at least one request in flight."""
        spans = sorted((max(a, start), min(b, end)) for a, b, _ in self.intervals if b > start and a < end)
        total, cursor = 0.0, start
        for a, b in spans:
            a = max(a, cursor)
            if b > a:
                total += b - a
                cursor = b
        return total

    def counts(self, start: float, end: float) -> Counter[str]:
        return Counter(kind for a, _, kind in self.intervals if start <= a <= end)

    def time_in(self, kind: str, start: float, end: float) -> float:
        return sum(b - a for a, b, k in self.intervals if k == kind and start <= a <= end)


def _kind(method: str, path: str) -> str:
    path = path.split("?", 1)[0]
    if path.endswith("/createRoom"):
        return "createRoom"
    if "/send/" in path:
        return "send"
    if "/account_data/" in path:
        return "account_data"
    if "/state/" in path:
        return "state"
    return f"{method} other"


async def register_many(hs: LocalHomeserver, names: list[str], password: str) -> list[str]:
    limit = asyncio.Semaphore(8)

    async def one(name: str) -> str:
        async with limit:
            return await hs.register(name, password)

    return list(await asyncio.gather(*(one(n) for n in names)))


def sent_dms(db_path: Path, users: set[str], after_id: int) -> dict[str, float]:
    """Responder → when the relay marked its DM sent (epoch seconds), for outbox rows after `after_id`."""
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5) as conn:
        rows = conn.execute(
            "SELECT to_user, sent_at FROM outbox WHERE id > ? AND to_user IS NOT NULL AND sent_at IS NOT NULL",
            (after_id,),
        ).fetchall()
    return {user: _epoch(sent) for user, sent in rows if user in users}


def first_created(db_path: Path, users: set[str], after_id: int) -> float | None:
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5) as conn:
        rows = conn.execute(
            "SELECT to_user, created_at FROM outbox WHERE id > ? AND to_user IS NOT NULL", (after_id,)
        ).fetchall()
    times = [_epoch(created) for user, created in rows if user in users]
    return min(times) if times else None


def _epoch(value: str | datetime) -> float:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


async def room_state(hs: LocalHomeserver, token: str, room_id: str) -> list[dict[str, Any]]:
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        aiohttp.ClientSession(headers=headers) as session,
        session.get(f"{hs.base_url}/_synapse/admin/v1/rooms/{room_id}/state") as resp,
    ):
        data = await resp.json()
    return list(data.get("state", []))


async def declare_and_measure(
    hs: LocalHomeserver,
    admin_token: str,
    officer: nio.AsyncClient,
    duty_room: str,
    db_path: Path,
    meter: SynapseMeter,
    want: set[str],
    title: str,
    after_id: int,
    label: str,
) -> float:
    """Declare one incident and print when everyone was invited and alerted; returns the total."""
    n = len(want)
    t0 = time.time()
    sent = await officer.room_send(
        duty_room, "m.room.message", {"msgtype": "m.text", "body": f"!应急 启动 Ⅰ 自然灾害 {title}"}
    )
    assert isinstance(sent, nio.RoomSendResponse), sent
    dms: dict[str, float] = {}
    while len(dms) < n:
        if time.time() - t0 > 300:
            raise TimeoutError(f"only {len(dms)}/{n} DMs sent after 300 s")
        await asyncio.sleep(0.1)
        dms = sent_dms(db_path, want, after_id)
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
        room_id = conn.execute("SELECT room_id FROM emergency_incidents ORDER BY id DESC LIMIT 1").fetchone()[0]
    state = await room_state(hs, admin_token, room_id)
    invites = {
        e["state_key"]: e["origin_server_ts"] / 1000
        for e in state
        if e["type"] == "m.room.member" and e["content"].get("membership") == "invite"
    }
    create_ts = next(e["origin_server_ts"] / 1000 for e in state if e["type"] == "m.room.create")
    missing = want - set(invites)
    assert not missing, f"{len(missing)} responders not invited"
    invited_at = max(invites[u] for u in want)
    alerted_at = max(dms.values())
    queued_at = first_created(db_path, want, after_id) or t0
    done = max(invited_at, alerted_at)
    total = done - t0
    busy = meter.busy_between(t0, done)
    counts = meter.counts(t0, done)
    print(f"[{label}] grade Ⅰ incident, {n} responders, bot in-process, Synapse on SQLite, e2ee off")
    print(f"  room created (m.room.create)       +{create_ts - t0:6.2f} s")
    print(f"  all {n} invited (last invite)      +{invited_at - t0:6.2f} s")
    print(f"  DMs queued (handler committed)     +{queued_at - t0:6.2f} s")
    print(f"  all {n} DM alerts sent             +{alerted_at - t0:6.2f} s")
    print(f"  total {total:.2f} s   target < {TARGET_S:.0f} s   {'PASS' if total < TARGET_S else 'FAIL'}")
    print("  breakdown of the wall time")
    print(f"    a request to Synapse in flight     {busy:6.2f} s ({busy / total:4.0%})")
    print(f"    Zhiban alone (dispatch, DB, relay) {total - busy:6.2f} s ({(total - busy) / total:4.0%})")
    print("    the bot's calls to Synapse (count, summed time):")
    for kind, count in sorted(counts.items(), key=lambda kv: -kv[1]):
        print(f"      {kind:14s} {count:4d}   {meter.time_in(kind, t0, done):6.2f} s")
    return total


async def main_async(n: int) -> int:
    logging.basicConfig(level=logging.WARNING)
    root = Path(tempfile.mkdtemp(prefix="zhiban-bench-fanout-"))
    hs = LocalHomeserver(root / "synapse")
    hs.prepare()
    await hs.start()
    runtime: BotRuntime | None = None
    task: asyncio.Task[None] | None = None
    try:
        pw = secrets.token_urlsafe(10)
        started = time.perf_counter()
        bot_user = await hs.register("zhiban", pw)
        officer_user = await hs.register("officer", pw)
        admin_user = await hs.register("benchadmin", pw, admin=True)
        responders = await register_many(hs, [f"responder{i:03d}" for i in range(n)], pw)
        print(f"registered {n + 3} users in {time.perf_counter() - started:.1f} s")
        admin_token, _ = await hs.login(admin_user, pw)
        config = root / "zhiban.toml"
        write_config(
            config,
            {
                "data_dir": str(root / "data"),
                "matrix": {"homeserver": hs.base_url, "user_id": bot_user, "password": pw, "e2ee": False},
                "roles": {"duty_officer": [officer_user]},
                "emergency": {"responders": [{"classes": ["自然灾害"], "grades": [1], "users": responders}]},
                # The fan-out is measured from the declaration itself, not from a phone's confirmation.
                "stepup": {"incident_declare": False},
            },
        )
        settings = load_settings(config)
        db_path = Path(settings.database_url.split("///", 1)[1])
        runtime = BotRuntime(settings)
        bot_started = time.time()
        task = asyncio.create_task(runtime.run())
        while runtime.client is None or not runtime.client.synced.is_set():
            if task.done():
                task.result()
            await asyncio.sleep(0.05)
        meter = SynapseMeter(runtime.client.nio)

        officer = nio.AsyncClient(hs.base_url, officer_user)
        await officer.login(pw)
        created = await officer.room_create(name="duty", invite=[bot_user])
        assert isinstance(created, nio.RoomCreateResponse), created
        duty_room = created.room_id
        for _ in range(600):
            members = await officer.joined_members(duty_room)
            if isinstance(members, nio.JoinedMembersResponse) and any(m.user_id == bot_user for m in members.members):
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)  # the greeting settles

        want = set(responders)
        # At start the bot greets everyone an alert may reach, which opens their DM rooms
        # (emergency.reachability); the first alert then only sends. Timed here on its own.
        greeted: dict[str, float] = {}
        for _ in range(1200):
            greeted = sent_dms(db_path, want, 0)
            if len(greeted) == len(want):
                break
            await asyncio.sleep(0.1)
        if greeted:
            print(
                f"[start-up] DM rooms opened by the greeting: {len(greeted)}/{len(want)} "
                f"in {max(greeted.values()) - bot_started:.1f} s after the bot started (before any incident)"
            )
        with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
            after_greeting = int(conn.execute("SELECT coalesce(max(id), 0) FROM outbox").fetchone()[0])
        await declare_and_measure(
            hs, admin_token, officer, duty_room, db_path, meter, want, "城区内涝", after_greeting, "first"
        )
        # A second incident: the DM rooms exist now, so this is the everyday figure.
        with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
            last_id = int(conn.execute("SELECT max(id) FROM outbox").fetchone()[0])
        await declare_and_measure(
            hs, admin_token, officer, duty_room, db_path, meter, want, "河道漫堤", last_id, "again"
        )
        await officer.close()
        return 0
    finally:
        if runtime is not None and task is not None:
            runtime.stop()
            await asyncio.gather(task, return_exceptions=True)
        await hs.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100)
    return asyncio.run(main_async(parser.parse_args().n))


if __name__ == "__main__":
    raise SystemExit(main())
