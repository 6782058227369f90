"""公文审批: from a leader's ✅ to the edited card and the requester's DM, and decisions/s.

(1) Through a real Synapse (loopback, e2ee off). The bot runs as `zhiban bot`, as in
    production. A requester starts `--n` one-step approvals (`!审批 发起 <title> @leader`) in
    a room with the bot and the leader; for each, the leader's client reacts ✅ on the card and
    we time, from just before the reaction is sent:
      card edit    the m.replace of the card (showing the ✅) arriving at the leader's client;
      DM           the bot's "… 同意了 A12" arriving at the requester's client, in their DM
                   room with the bot (any room but the shared one);
      final DM     the "… 已通过" DM that follows it (a one-step chain is then approved).
    Each round waits until the card and the leader's "请审批" DM have arrived before reacting,
    so the bot's outbox is idle and a round measures one decision, not a queue. The first
    rounds create the DM rooms; they are a warm-up and are not counted.
(2) The service alone: `commands.approvals.service.decide` on SQLite (a file) and on PostgreSQL
    (a scratch database, when a server answers at ZHIBAN_BENCH_POSTGRES), `--decisions`
    approvals each decided once, each decision in its own `db.transaction()`; only the decide
    transactions are timed. Each approval has a posted card row, so every decision also
    renders and queues the card edit and the requester's DMs, as in the bot. The SQL statements
    each decision sends are counted (target ≤ 10; ≥ 500 decisions/s on PostgreSQL).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nio

from bench.exactly_once import counting
from commands.approvals import render, service
from commands.approvals.chain import StepSpec
from records import outbox
from records.clock import FrozenClock
from records.db import Database
from records.migrate import upgrade_async
from zhiban.config_file import write_config
from zhiban.local.homeserver import LocalHomeserver

PG_ADMIN_URL = os.environ.get("ZHIBAN_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
WAIT_S = 30.0  # a guard against a hang in one round, not a target
WARMUP = 3


# -- (1) through Synapse -----------------------------------------------------------------
@dataclass
class Seen:
    """One room message as a client saw it, with the moment its sync delivered it."""

    at: float
    room_id: str
    sender: str
    event_id: str
    content: dict[str, Any]

    @property
    def body(self) -> str:
        return str(self.content.get("body", ""))

    @property
    def replaces(self) -> str | None:
        relates = self.content.get("m.relates_to") or {}
        return relates.get("event_id") if relates.get("rel_type") == "m.replace" else None


class Person:
    """A syncing nio client that joins what it is invited to and logs every message it sees."""

    def __init__(self, hs: str, user_id: str) -> None:
        config = nio.AsyncClientConfig(encryption_enabled=False, store_sync_tokens=False)
        self.nio = nio.AsyncClient(hs, user_id, config=config)
        self.log: list[Seen] = []
        self.changed = asyncio.Event()
        self.task: asyncio.Task[Any] | None = None

    async def start(self, password: str) -> None:
        response = await self.nio.login(password)
        assert isinstance(response, nio.LoginResponse), response
        await self.nio.sync(timeout=0, full_state=True)
        self.nio.add_event_callback(self._on_message, nio.RoomMessageText)  # type: ignore[arg-type]
        self.nio.add_event_callback(self._on_invite, nio.InviteMemberEvent)  # type: ignore[arg-type]
        self.task = asyncio.create_task(self.nio.sync_forever(timeout=30_000))

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        await self.nio.close()

    async def _on_message(self, room: nio.MatrixRoom, event: nio.RoomMessageText) -> None:
        content = event.source.get("content", {})
        self.log.append(Seen(time.perf_counter(), room.room_id, event.sender, event.event_id, content))
        self.changed.set()

    async def _on_invite(self, room: nio.MatrixRoom, event: nio.InviteMemberEvent) -> None:
        if event.state_key == self.nio.user_id and event.membership == "invite":
            await self.nio.join(room.room_id)

    def mark(self) -> int:
        return len(self.log)

    async def wait_for(self, match: Callable[[Seen], bool], since: int) -> Seen:
        """The first message from `since` on that matches, waiting for it if need be."""
        deadline = time.perf_counter() + WAIT_S
        checked = since
        while True:
            for seen in self.log[checked:]:
                if match(seen):
                    return seen
            checked = len(self.log)
            self.changed.clear()
            left = deadline - time.perf_counter()
            if left <= 0:
                raise TimeoutError(f"{self.nio.user_id}: nothing matched in {WAIT_S:.0f} s")
            try:
                await asyncio.wait_for(self.changed.wait(), left)
            except TimeoutError:
                pass


@dataclass
class Round:
    card_edit_ms: float
    dm_ms: float
    final_dm_ms: float


async def one_round(i: int, bot: str, room: str, requester: Person, leader: Person) -> Round:
    leader_id = leader.nio.user_id
    mark_r, mark_l = requester.mark(), leader.mark()
    sent = await requester.nio.room_send(
        room, "m.room.message", {"msgtype": "m.text", "body": f"!审批 发起 关于第{i}批防汛物资的请示 {leader_id}"}
    )
    assert isinstance(sent, nio.RoomSendResponse), sent
    card = await requester.wait_for(
        lambda s: s.room_id == room and s.sender == bot and "📝 审批 A" in s.body and s.replaces is None, mark_r
    )
    code = card.body.split("审批 ", 1)[1].split("：", 1)[0]
    # Steady state before the decision: the leader has the card and the "请审批" DM.
    await leader.wait_for(lambda s: s.event_id == card.event_id, mark_l)
    await leader.wait_for(lambda s: s.room_id != room and s.sender == bot and f"请审批 {code}" in s.body, mark_l)

    mark_r, mark_l = requester.mark(), leader.mark()
    started = time.perf_counter()
    reacted = await leader.nio.room_send(
        room,
        "m.reaction",
        {"m.relates_to": {"rel_type": "m.annotation", "event_id": card.event_id, "key": "✅"}},
    )
    assert isinstance(reacted, nio.RoomSendResponse), reacted
    approved_line = f"✅ {leader_id} 同意"

    def is_edit(s: Seen) -> bool:
        return s.replaces == card.event_id and approved_line in s.body

    def is_dm(text: str) -> Callable[[Seen], bool]:
        return lambda s: s.room_id != room and s.sender == bot and text in s.body

    edit, dm, final = await asyncio.gather(
        leader.wait_for(is_edit, mark_l),
        requester.wait_for(is_dm(f"同意了 {code}"), mark_r),
        requester.wait_for(is_dm(f"{code} 已通过"), mark_r),
    )
    return Round(*((seen.at - started) * 1000 for seen in (edit, dm, final)))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary(name: str, values: list[float]) -> str:
    return (
        f"    {name:32s} p50 {pct(values, 0.5):7.1f} ms   p95 {pct(values, 0.95):7.1f} ms   "
        f"mean {statistics.mean(values):7.1f}   max {max(values):7.1f}"
    )


async def through_synapse(n: int) -> None:
    root = Path(tempfile.mkdtemp(prefix="zhiban-bench-approvals-"))
    hs = LocalHomeserver(root / "synapse")
    hs.prepare()
    await hs.start()
    bot: subprocess.Popen[bytes] | None = None
    people: list[Person] = []
    try:
        pw = secrets.token_urlsafe(10)
        bot_user = await hs.register("zhiban", pw)
        requester_user = await hs.register("requester", pw)
        leader_user = await hs.register("leader", pw)
        config = root / "zhiban.toml"
        write_config(
            config,
            {
                "data_dir": str(root / "data"),
                "matrix": {"homeserver": hs.base_url, "user_id": bot_user, "password": pw, "e2ee": False},
                "roles": {"leader": [leader_user]},
            },
        )
        log = open(root / "bot.log", "ab")  # noqa: ASYNC230 - handed to the child
        bot = subprocess.Popen(  # noqa: ASYNC220 - a long-lived child, not awaited
            [sys.executable, "-m", "zhiban.cli", "bot", "--config", str(config)],
            stdout=log,
            stderr=log,
            env={**os.environ, "ZHIBAN_CONFIG": str(config)},
        )
        requester, leader = Person(hs.base_url, requester_user), Person(hs.base_url, leader_user)
        people = [requester, leader]
        for person in people:
            await person.start(pw)
        created = await requester.nio.room_create(name="办公室", invite=[bot_user, leader_user])
        assert isinstance(created, nio.RoomCreateResponse), created
        room = created.room_id
        await wait_joined(requester.nio, room, {bot_user, leader_user})
        await asyncio.sleep(2.0)  # the bot's greeting settles

        rounds: list[Round] = []
        began = time.perf_counter()
        for i in range(WARMUP + n):
            result = await one_round(i + 1, bot_user, room, requester, leader)
            if i >= WARMUP:
                rounds.append(result)
        wall = time.perf_counter() - began
        print(f"(1) leader's ✅ on the card → … through Synapse; {n} one-step approvals ({WARMUP} warm-up not counted)")
        print("    bot as `zhiban bot` (SQLite), Synapse on loopback, e2ee off; times from sending the reaction")
        print(summary("card edit at the leader", [r.card_edit_ms for r in rounds]))
        print(summary("requester's DM (approved by)", [r.dm_ms for r in rounds]))
        print(summary("requester's final DM (approved)", [r.final_dm_ms for r in rounds]))
        print(f"    {WARMUP + n} rounds (start + decide) in {wall:.1f} s")
    finally:
        for person in people:
            await person.stop()
        if bot is not None:
            bot.terminate()
            try:
                bot.wait(timeout=20)
            except subprocess.TimeoutExpired:
                bot.kill()
        await hs.stop()


async def wait_joined(client: nio.AsyncClient, room: str, users: set[str]) -> None:
    deadline = time.perf_counter() + 120
    while time.perf_counter() < deadline:
        members = await client.joined_members(room)
        if isinstance(members, nio.JoinedMembersResponse) and users <= {m.user_id for m in members.members}:
            return
        await asyncio.sleep(0.1)
    raise TimeoutError(f"{users} did not join {room}")


# -- (2) the service alone ---------------------------------------------------------------
REQUESTER = "@requester:bench.local"
DECISIONS_TARGET = 500
STATEMENTS_TARGET = 10
LEADER = "@leader:bench.local"
ROOM = "!office:bench.local"


async def decisions_per_second(url: str, count: int) -> tuple[float, list[float], float]:
    """Start `count` approvals (untimed), then decide each once, one transaction per decision;
    decisions per second, the times, and the SQL statements per decision."""
    await upgrade_async(url)
    db = Database(url)
    clock = FrozenClock(datetime(2025, 11, 26, 2, 0, tzinfo=UTC))
    try:
        ids: list[int] = []
        for batch in range(0, count, 100):
            async with db.transaction() as session:
                for i in range(batch, min(count, batch + 100)):
                    approval = await service.start_approval(
                        session,
                        requester=REQUESTER,
                        title=f"关于第{i}批防汛物资的请示",
                        steps=[StepSpec(members=(LEADER,))],
                        room_id=ROOM,
                        clock=clock,
                    )
                    # The card as the handler posts it, so each decision edits it.
                    steps = await service.load_steps(session, approval.id)
                    await outbox.enqueue(
                        session,
                        render.card_content(approval, steps, now=clock.now()),
                        room_id=ROOM,
                        ref=service.card_ref(approval.id),
                    )
                    ids.append(approval.id)
        times: list[float] = []
        with counting(db) as statements:
            for approval_id in ids:
                started = time.perf_counter()
                async with db.transaction() as session:
                    outcome = await service.decide(session, approval_id, LEADER, True, "同意", clock)
                times.append((time.perf_counter() - started) * 1000)
                assert outcome.event == "approved", outcome.event
        return count / (sum(times) / 1000), times, statements[0] / count
    finally:
        await db.dispose()


async def postgres_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_URL, timeout=3)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def postgres_reachable() -> bool:
    import asyncpg

    try:
        await postgres_admin("SELECT 1")
    except (OSError, TimeoutError, asyncpg.PostgresError):
        return False
    return True


async def service_alone(count: int) -> None:
    print(f"(2) service.decide alone: {count} one-step approvals, each decided once, one transaction each")
    with tempfile.TemporaryDirectory(prefix="zhiban-bench-decide-") as tmp:
        rate, times, per = await decisions_per_second(f"sqlite:///{tmp}/zhiban.db", count)
        print(
            f"    SQLite (file)  {rate:7.0f} decisions/s   p50 {pct(times, 0.5):5.2f} ms   p95 {pct(times, 0.95):5.2f} ms"
            f"   {per:.1f} SQL statements per decision (target ≤ {STATEMENTS_TARGET})"
        )
    if not await postgres_reachable():
        print(f"    PostgreSQL     not reachable at {PG_ADMIN_URL}; skipped")
        return
    name = f"zhiban_bench_{secrets.token_hex(4)}"
    await postgres_admin(f'CREATE DATABASE "{name}"')
    try:
        rate, times, per = await decisions_per_second(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", count)
        print(
            f"    PostgreSQL     {rate:7.0f} decisions/s   p50 {pct(times, 0.5):5.2f} ms   p95 {pct(times, 0.95):5.2f} ms"
            f"   {per:.1f} SQL statements per decision"
        )
        verdict = "PASS" if rate >= DECISIONS_TARGET and per <= STATEMENTS_TARGET else "FAIL"
        print(f"    target ≥ {DECISIONS_TARGET}/s on PostgreSQL at ≤ {STATEMENTS_TARGET} statements each: {verdict}")
    finally:
        await postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def main_async(n: int, decisions: int, only: str | None) -> int:
    logging.basicConfig(level=logging.WARNING)
    if only in (None, "synapse"):
        await through_synapse(n)
    if only in (None, "service"):
        await service_alone(decisions)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=40, help="approvals decided through Synapse")
    parser.add_argument("--decisions", type=int, default=500, help="decisions through the service alone")
    parser.add_argument("--only", choices=("synapse", "service"), help="run one half")
    args = parser.parse_args()
    return asyncio.run(main_async(args.n, args.decisions, args.only))


if __name__ == "__main__":
    raise SystemExit(main())
