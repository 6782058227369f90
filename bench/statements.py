"""SQL statements per action: an approval decision, an order acknowledgement, an RSVP and a
reminder firing, on SQLite (a file) and PostgreSQL (a scratch database, when a server answers at
ZHIBAN_BENCH_POSTGRES), side by side.

Each action runs in its own `db.transaction()`, as the bot's handler or the timer worker runs it,
a minute after rows set up beforehand (not counted): a one-step approval with its card posted,
decided by its approver; an incident's order to two responders, its card and DMs delivered,
acknowledged by one; a meeting with two attendees, one answering ✅; a personal reminder due now,
fired by its timer's handler. Every statement the engine sends inside the action's transaction
is counted (BEGIN included where the driver sends it as a statement, as SQLite's BEGIN IMMEDIATE
is; COMMIT is not a cursor execution). Target ≤ 10 per action (issue #20). `--show` prints the
statements themselves.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import secrets
import statistics
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bench.approval_latency import PG_ADMIN_URL, postgres_admin, postgres_reachable
from commands.approvals import render, service
from commands.approvals.chain import StepSpec
from commands.meetings import service as meetings
from commands.meetings.models import ATTEND
from commands.meetings.policy import MeetingPolicy
from commands.tasks import reminders
from commands.tasks import timers as task_timers
from emergency import incidents, orders
from emergency.policy import Policy
from records import outbox
from records.clock import FrozenClock
from records.db import Database
from records.migrate import upgrade_async
from records.models import Timer

TARGET = 10
ROUNDS = 5
T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
ROOM = "!office:bench.local"
REQUESTER, LEADER = "@requester:bench.local", "@leader:bench.local"
OFFICER, FIRE = "@officer:bench.local", "@fire:bench.local"
ORG, BOB, CAROL = "@org:bench.local", "@bob:bench.local", "@carol:bench.local"

# An action: set up its rows (one transaction, not counted), then return what runs it.
Action = Callable[[Database, FrozenClock], Awaitable[Callable[[AsyncSession], Awaitable[object]]]]


@contextmanager
def recording(db: Database) -> Iterator[list[str]]:
    """The statements the engine sends meanwhile, as text."""
    sent: list[str] = []

    def before(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        sent.append(" ".join(statement.split()))

    sa_event.listen(db.engine.sync_engine, "before_cursor_execute", before)
    try:
        yield sent
    finally:
        sa_event.remove(db.engine.sync_engine, "before_cursor_execute", before)


async def approval_decision(db: Database, clock: FrozenClock) -> Callable[[AsyncSession], Awaitable[object]]:
    async with db.transaction() as session:
        approval = await service.start_approval(
            session,
            requester=REQUESTER,
            title="关于防汛物资的请示",
            steps=[StepSpec(members=(LEADER,))],
            room_id=ROOM,
            clock=clock,
        )
        steps = await service.load_steps(session, approval.id)
        card = render.card_content(approval, steps, now=clock.now())
        await outbox.enqueue(session, card, room_id=ROOM, ref=service.card_ref(approval.id))
        approval_id = approval.id

    async def run(session: AsyncSession) -> object:
        outcome = await service.decide(session, approval_id, LEADER, True, "同意", clock)
        assert outcome.event == "approved", outcome.event
        return outcome

    return run


async def order_ack(db: Database, clock: FrozenClock) -> Callable[[AsyncSession], Awaitable[object]]:
    async with db.transaction() as session:
        people = incidents.People([LEADER], [OFFICER], [FIRE])
        incident = await incidents.declare(
            session, actor=OFFICER, grade=2, category="自然灾害", title="城东内涝", people=people,
            policy=Policy(), clock=clock,
        )  # fmt: skip
        await incidents.attach_room(session, incident, "!incident:bench.local")
        plan = orders.NagPlan(incident.ack_minutes, 2, 3, ())
        order = await orders.issue(
            session, actor=LEADER, recipients=[FIRE, OFFICER], text="到泵站集合", room_id="!incident:bench.local",
            plan=plan, clock=clock, incident=incident,
        )  # fmt: skip
        # The card and the DMs as the handler sends them (emergency.handlers.orders), delivered,
        # so that the acknowledgement edits them as it does in the bot.
        sent = [await outbox.enqueue(session, outbox.text_content("O"), room_id=ROOM, ref=orders.card_ref(order))]
        for user in (FIRE, OFFICER):
            sent.append(
                await outbox.enqueue(session, outbox.text_content("O"), to_user=user, ref=orders.dm_ref(order, user))
            )
        for row in sent:
            row.sent_at, row.event_id = clock.now(), f"$sent{row.id}"
        order_id = order.id

    async def run(session: AsyncSession) -> object:
        changed = await orders.acknowledge(session, await orders.get(session, order_id), user=FIRE, clock=clock)
        assert changed
        return changed

    return run


async def rsvp(db: Database, clock: FrozenClock) -> Callable[[AsyncSession], Awaitable[object]]:
    policy = MeetingPolicy(places={"三楼会议室": 20})
    async with db.transaction() as session:
        meeting = await meetings.create_meeting(
            session, organizer=ORG, title="防汛会商", starts_at=clock.now() + timedelta(days=1),
            place="三楼会议室", attendees=[BOB, CAROL], room_id=ROOM, policy=policy, clock=clock,
        )  # fmt: skip
        meeting_id = meeting.id

    async def run(session: AsyncSession) -> object:
        return await meetings.respond(session, meeting_id, BOB, ATTEND, clock)

    return run


async def reminder_firing(db: Database, clock: FrozenClock) -> Callable[[AsyncSession], Awaitable[object]]:
    async with db.transaction() as session:
        reminder = await reminders.create_reminder(
            session, owner=BOB, target="me", room_id=ROOM, text="交材料", due_at=clock.now() + timedelta(minutes=1),
            rule=None, tz="Asia/Shanghai", lang="zh", alarm=False, clock=clock,
        )  # fmt: skip
        key = reminders.ref_of(reminder.id)

    async def run(session: AsyncSession) -> object:
        # As the worker runs it: the timer row read, the handler, the row settled.
        timer = await session.scalar(select(Timer).where(Timer.key == key))
        assert timer is not None and timer.kind == task_timers.FIRE, timer
        fired = await task_timers.fire(session, timer, clock)
        timer.status = "done"
        return fired

    return run


ACTIONS: dict[str, Action] = {
    "approval decision": approval_decision,
    "order acknowledgement": order_ack,
    "RSVP": rsvp,
    "reminder firing": reminder_firing,
}


async def count_action(url: str, action: Action, rounds: int, show: bool) -> list[int]:
    """Statements per run of `action`, `rounds` times on fresh rows."""
    db = Database(url)
    clock = FrozenClock(T0)
    counts: list[int] = []
    try:
        for number in range(rounds):
            run = await action(db, clock)
            clock.advance(timedelta(minutes=1))  # acted on a little later, as people do
            with recording(db) as sent:
                async with db.transaction() as session:
                    await run(session)
            counts.append(len(sent))
            if show and number == rounds - 1:
                for statement in sent:
                    print(f"        {statement[:150]}")
    finally:
        await db.dispose()
    return counts


async def all_actions(url: str, rounds: int, show: bool) -> dict[str, float]:
    await upgrade_async(url)
    return {name: statistics.median(await count_action(url, action, rounds, show)) for name, action in ACTIONS.items()}


async def main_async(rounds: int, show: bool, before: dict[str, Any]) -> int:
    logging.basicConfig(level=logging.ERROR)
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="zhiban-bench-statements-") as tmp:
        results["SQLite"] = await all_actions(f"sqlite:///{tmp}/zhiban.db", rounds, show)
    if await postgres_reachable():
        name = f"zhiban_bench_{secrets.token_hex(4)}"
        await postgres_admin(f'CREATE DATABASE "{name}"')
        try:
            results["PostgreSQL"] = await all_actions(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", rounds, show)
        finally:
            await postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        print(f"PostgreSQL not reachable at {PG_ADMIN_URL}; SQLite only")
    print(f"SQL statements per action (median of {rounds}; target ≤ {TARGET}; 'before' = main before issue #20)")
    header = "".join(f"{db:>14s}{'before':>9s}" for db in results)
    print(f"    {'action':24s}{header}")
    for action in ACTIONS:
        cells = ""
        for db, counts in results.items():
            was = before.get(db, {}).get(action)
            cells += f"{counts[action]:14.0f}{(str(was) if was is not None else '—'):>9s}"
        print(f"    {action:24s}{cells}")
    for db, counts in results.items():
        over = [a for a, n in counts.items() if n > TARGET]
        print(f"    {db}: {'all within' if not over else 'over the target: ' + ', '.join(over)} (≤ {TARGET})")
    return 0


# Measured on main before the work of issue #20 (`python -m bench.statements`, same machine).
BEFORE: dict[str, dict[str, int]] = {
    "SQLite": {"approval decision": 44, "order acknowledgement": 19, "RSVP": 13, "reminder firing": 17},
    "PostgreSQL": {"approval decision": 45, "order acknowledgement": 19, "RSVP": 13, "reminder firing": 16},
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--show", action="store_true", help="print the statements of each action's last round")
    args = parser.parse_args()
    return asyncio.run(main_async(args.rounds, args.show, BEFORE))


if __name__ == "__main__":
    raise SystemExit(main())
