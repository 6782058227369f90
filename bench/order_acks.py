"""200 responders acknowledge an order at once: the bot's real path, on SQLite and PostgreSQL.

A grade Ⅰ incident is declared in chat and its commander orders every responder
(`!指令 @… 到城东泵站集合`); the incident room and the messages are taken as sent (no homeserver).
Then every responder acknowledges: half with `!收到 O…` in their DM room, half with ✅ on the
order's card in the incident room. Each event goes through `Dispatcher.submit` as the bot's sync
loop hands a batch over (one task per sender, the exactly-once transaction, every router), with
the acknowledgements arriving in sync batches spread over `--window` seconds (0: all in one).

Printed per backend (median of the rounds, which alternate the backends):
- acks/s: acknowledgements over the time from the first one's arrival to the last one handled;
- ack → card edit: from an acknowledgement's arrival to the commit of its turn, which wrote the
  card's edit (m.replace) and handed it to the relay: p50 and p95;
- after the last: from the last acknowledgement's arrival to the commit of the card edit that
  shows all of them, and to the relay's send of it (target < 2 s, from the issue: "reflected on
  the order card within 2 s of the last one"); the card the relay sends last must show them all.
  The relay runs beside the turns as in the bot, with a homeserver that takes each event at once;
  the card edits it sends are counted (it coalesces waiting edits of one card);
- SQL statements per acknowledgement (the turns' engine cursor executions, not the relay's;
  BEGIN and COMMIT not counted), and this process's CPU time per acknowledgement (turns + relay).

    python -m bench.order_acks [--n 200] [--rounds 3] [--window 0] [--backends sqlite,postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import itertools
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import String, cast, func, literal, select, update

from bench import plans
from bench.exactly_once import counting
from bench.timer_lateness import PG_ADMIN_URL, postgres_reachable, scratch_url
from bot.dispatcher import Dispatcher
from bot.types import Event, Message, ReactionEvent
from emergency.models import Order, Receipt
from notifications import welcome
from records import outbox
from records.config import EmergencySettings, ResponderRule, Settings, StepUpSettings
from records.db import Database
from records.models import OutboxMessage
from zhiban.app import build_dispatcher
from zhiban.relay import OutboxRelay

TARGET_AFTER_LAST_S = 2.0
SERVER = "bench"
OFFICER = f"@officer:{SERVER}"
BOT = f"@zhiban:{SERVER}"
DUTY_ROOM = f"!duty:{SERVER}"
INCIDENT_ROOM = f"!incident:{SERVER}"
_ids = itertools.count()


class NoHomeserver:
    """The bot client's parts these turns and the relay use, as a homeserver with empty rooms
    that takes every event at once would give them; it keeps the card edits it is sent."""

    user_id = BOT

    def __init__(self) -> None:
        self.card_edits: list[tuple[float, dict[str, Any]]] = []  # (when, content) of each card edit sent

    def power_level(self, room_id: str, user_id: str) -> int:
        return 0

    def members(self, room_id: str) -> dict[str, str | None]:
        return {}

    def dm_owners(self) -> dict[str, str]:
        return {}

    async def dm_room(self, user_id: str) -> str:
        return f"!dm-{user_id}"

    async def send_event(self, room_id: str, event_type: str, content: dict[str, Any], *, txn_id: str) -> str:
        if room_id == INCIDENT_ROOM and "m.new_content" in content:
            self.card_edits.append((time.perf_counter(), content))
        return f"$sent-{txn_id}"


def _message(sender: str, body: str, room: str) -> Message:
    n = next(_ids)
    return Message(room_id=room, event_id=f"$ack{n}", sender=sender, timestamp_ms=n, source={}, body=body)


async def _mark_sent(db: Database) -> None:
    """What the relay does once Matrix accepted the rows: the incident room exists, and every
    message has an event id (a ✅ on the card names it)."""
    async with db.transaction() as session:
        for action in await session.scalars(
            select(OutboxMessage).where(OutboxMessage.event_type == outbox.CREATE_ROOM, OutboxMessage.sent_at.is_(None))
        ):
            await outbox.room_made(session, action, INCIDENT_ROOM)
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.sent_at.is_(None))
            .values(sent_at=func.now(), event_id=literal("$out").concat(cast(OutboxMessage.id, String)))
        )


def _note_handled(timing: list[float], _future: asyncio.Future[Any]) -> None:
    timing.append(time.perf_counter())


@dataclass
class Burst:
    acks_per_s: float
    p50_s: float
    p95_s: float
    after_last_s: float
    statements: float
    cpu_ms: float  # this process's CPU time per acknowledgement (the turns and the relay)
    card_complete: bool
    card_edits_sent: int  # card edits the relay sent for the burst (one per ack without coalescing)
    shown_after_last_s: float  # from the last ack's arrival to the relay sending the complete card


class Office:
    """One database with the incident declared; each round issues a new order and acknowledges it."""

    def __init__(self, url: str, n: int) -> None:
        self.db = Database(url)
        self.responders = [f"@r{i:03d}:{SERVER}" for i in range(n)]
        settings = Settings(
            data_dir=Path(tempfile.mkdtemp()),
            roles={"duty_officer": [OFFICER]},
            emergency=EmergencySettings(
                responders=[ResponderRule(classes=["自然灾害"], grades=[1], users=self.responders)]
            ),
            stepup=StepUpSettings(incident_declare=False),
        )
        self.client = NoHomeserver()
        self.dispatcher: Dispatcher = build_dispatcher(settings, self.db, extra_context={"client": self.client})
        self.settings = settings
        # The relay's own engine, so that the statements counted per ack are the turns' alone.
        self.relay_db = Database(url)

    async def declare(self) -> None:
        await self.dispatcher.feed(_message(OFFICER, "!应急 启动 Ⅰ 自然灾害 城区内涝", DUTY_ROOM))
        await _mark_sent(self.db)
        # The relay introduced the bot before each responder's first DM (the alert): it does not
        # again before the edits of their order DMs.
        async with self.db.transaction() as session:
            for user in self.responders:
                await welcome.mark_introduced(session, user)

    async def order(self) -> tuple[Order, OutboxMessage]:
        """Order everyone; the order and its card as sent."""
        names = " ".join(self.responders)
        await self.dispatcher.feed(_message(OFFICER, f"!指令 {names} 到城东泵站集合", INCIDENT_ROOM))
        await _mark_sent(self.db)
        async with self.db.reading() as session:
            order = await session.scalar(select(Order).order_by(Order.id.desc()).limit(1))
            assert order is not None, "the order was not issued"
            card = await session.scalar(
                select(OutboxMessage).where(OutboxMessage.ref == f"card:{order.code}").order_by(OutboxMessage.id)
            )
        assert card is not None and card.event_id is not None
        return order, card

    def acks(self, code: str, card: str) -> list[Event]:
        events: list[Event] = []
        for i, user in enumerate(self.responders):
            if i % 2:
                n = next(_ids)
                events.append(
                    ReactionEvent(
                        room_id=INCIDENT_ROOM,
                        event_id=f"$ack{n}",
                        sender=user,
                        timestamp_ms=n,
                        source={},
                        key="✅",
                        reacts_to=card,
                    )
                )
            else:
                events.append(_message(user, f"!收到 {code}", f"!dm{i}:{SERVER}"))
        return events

    async def burst(self, window: float, *, recorded: plans.Recorded | None = None) -> Burst:
        """One order acknowledged by everyone; with `recorded`, the acknowledgements' statements
        (not the order's nor this bench's own) are kept there."""
        order, card = await self.order()
        events = self.acks(order.code, card.event_id or "")
        batches = max(1, int(window / 0.1))  # a sync batch every 0.1 s while acks arrive
        per_batch = -(-len(events) // batches)
        timings: list[list[float]] = []  # [arrived, handled] per acknowledgement
        futures: list[asyncio.Future[Any]] = []
        self.client.card_edits.clear()
        # The relay runs beside the turns as in the bot, handed each turn's rows at its commit.
        relay = OutboxRelay(self.relay_db, self.client, settings=self.settings)  # type: ignore[arg-type]
        relaying = asyncio.create_task(relay.run())
        with contextlib.ExitStack() as watching:
            count = watching.enter_context(counting(self.db))
            if recorded is not None:
                watching.enter_context(plans.recording(self.db, into=recorded))
            cpu = time.process_time()
            start = time.perf_counter()
            for b in range(batches):
                await asyncio.sleep(max(0.0, start + b * window / batches - time.perf_counter()))
                for event in events[b * per_batch : (b + 1) * per_batch]:
                    timing = [time.perf_counter()]
                    timings.append(timing)
                    future = self.dispatcher.submit(event, {"client": self.client})
                    future.add_done_callback(functools.partial(_note_handled, timing))
                    futures.append(future)
            await asyncio.gather(*futures)
            end = time.perf_counter()
            while await self._pending():
                relay.wake()
                await asyncio.sleep(0.01)
            relay.stop()
            await relaying
            cpu = time.process_time() - cpu
        n = len(events)
        last_arrival = max(t[0] for t in timings)
        complete_at = next((at for at, c in self.client.card_edits if f"{n}/{n}" in str(c.get("body", ""))), None)
        latencies = sorted(handled - arrived for arrived, handled in timings)
        async with self.db.reading() as session:
            acked = await session.scalar(
                select(func.count()).where(Receipt.order_id == order.id, Receipt.acked_at.is_not(None))
            )
            last_card = await session.scalar(
                select(OutboxMessage.content)
                .where(OutboxMessage.relation == "m.replace", OutboxMessage.relates_to_outbox_id == card.id)
                .order_by(OutboxMessage.id.desc())
                .limit(1)
            )
        shown = f"{n}/{n}" in str((last_card or {}).get("body", ""))
        return Burst(
            acks_per_s=n / (end - start),
            p50_s=statistics.median(latencies),
            p95_s=latencies[int(0.95 * (n - 1))],
            after_last_s=max(t[1] for t in timings) - max(t[0] for t in timings),
            statements=count[0] / n,
            cpu_ms=cpu / n * 1000,
            card_complete=acked == n and shown and bool(self.client.card_edits) and complete_at is not None,
            card_edits_sent=len(self.client.card_edits),
            shown_after_last_s=(complete_at or float("inf")) - last_arrival,
        )

    async def _pending(self) -> bool:
        async with self.db.reading() as session:
            return bool(await outbox.pending(session, 1))


async def _inspect(office: Office, window: float) -> None:
    """One more burst on PostgreSQL: prepared-statement reuse and the plans of its statements."""
    seen = plans.Recorded()
    await office.burst(window, recorded=seen)
    print(f"  postgres, one more burst: {seen.prepares} statements prepared for {seen.executions} sent")
    print("          plans of the statements that read rows (sequential scans off: a scan left means no index)")
    await plans.print_plans(office.db, seen)


async def run(backends: list[str], n: int, rounds: int, window: float) -> None:
    results: dict[str, list[Burst]] = {b: [] for b in backends}
    with tempfile.TemporaryDirectory() as tmp:
        async with contextlib.AsyncExitStack() as stack:
            offices: dict[str, Office] = {}
            for backend in backends:
                offices[backend] = Office(await stack.enter_async_context(scratch_url(backend, Path(tmp), "acks")), n)
                stack.push_async_callback(offices[backend].db.dispose)
                stack.push_async_callback(offices[backend].relay_db.dispose)
                await offices[backend].declare()
            for _ in range(rounds):
                for backend in backends:  # alternated, so that a busy neighbour hurts both
                    results[backend].append(await offices[backend].burst(window))
            if "postgres" in offices:
                await _inspect(offices["postgres"], window)
    for backend, bursts in results.items():

        def med(field: str, rows: list[Burst] = bursts) -> float:
            return statistics.median(getattr(b, field) for b in rows)

        complete = all(b.card_complete for b in bursts)
        after = med("after_last_s")
        print(
            f"  {backend}: {med('acks_per_s'):6.0f} acks/s   ack -> card edit p50 {med('p50_s') * 1000:6.0f} ms"
            f"  p95 {med('p95_s') * 1000:6.0f} ms   SQL statements per ack {med('statements'):.1f}"
            f"   CPU per ack {med('cpu_ms'):.1f} ms"
        )
        shown = med("shown_after_last_s")
        verdict = "PASS" if shown < TARGET_AFTER_LAST_S and complete else "FAIL"
        print(
            f"          the card edit showing all {n} committed {after:5.2f} s after the last ack, sent by the relay"
            f" {shown:5.2f} s after it (target < {TARGET_AFTER_LAST_S:.0f} s), {med('card_edits_sent'):.0f} card edits"
            f" sent for {n} acks; the last card sent complete in every round: {'yes' if complete else 'NO'}  {verdict}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--window", type=float, default=0.0, help="seconds over which the acks arrive")
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    backends = args.backends.split(",")
    if "postgres" in backends and not asyncio.run(postgres_reachable()):
        print(f"  postgres: not reachable at {PG_ADMIN_URL}; skipped")
        backends.remove("postgres")
    spread = f"over {args.window:.0f} s" if args.window else "at once (one sync batch)"
    print(f"(o) {args.n} responders acknowledge an order {spread}, median of {args.rounds} rounds")
    asyncio.run(run(backends, args.n, args.rounds, args.window))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
