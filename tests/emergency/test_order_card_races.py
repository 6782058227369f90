"""Two recipients acknowledging an order at once: the card's last edit shows both.

On PostgreSQL two turns run at the same time (the bot runs one per sender). Each used to draw
the order's card from what it could see, which lacked the other's uncommitted acknowledgement:
the edit sent last showed one acknowledgement too few, and stayed so. SQLite runs one writer at
a time, so the race is PostgreSQL's (bench/order_acks.py shows it with 200 responders).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from emergency import incidents, orders
from emergency.policy import Policy
from records import outbox
from records.clock import FrozenClock
from records.db import Database
from records.models import OutboxMessage

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
PEOPLE = incidents.People(["@leader:x"], ["@officer:x"], ["@fire:x"])


async def _order_with_card(db: Database, clock: FrozenClock) -> int:
    async with db.transaction() as s:
        incident = await incidents.declare(
            s, actor="@officer:x", grade=1, category="自然灾害", title="城东内涝", people=PEOPLE,
            policy=Policy(), clock=clock,
        )  # fmt: skip
        await incidents.attach_room(s, incident, "!incident:x")
        plan = orders.NagPlan(incident.ack_minutes, 2, 3, ())
        order = await orders.issue(
            s, actor="@leader:x", recipients=["@a:x", "@b:x"], text="到泵站集合", room_id="!incident:x",
            plan=plan, clock=clock, incident=incident,
        )  # fmt: skip
        card = await orders.card_message(s, order, delivered=set())
        await outbox.enqueue(s, card, room_id="!incident:x", ref=orders.card_ref(order))
        return order.id


async def test_the_card_edit_sent_last_shows_both_of_two_acknowledgements_made_at_once(db: Database) -> None:
    if db.is_sqlite:
        pytest.skip("SQLite has one writer at a time: the second turn cannot start meanwhile")
    clock = FrozenClock(T0)
    order_id = await _order_with_card(db, clock)
    first_acked, first_may_commit = asyncio.Event(), asyncio.Event()

    async def first() -> None:
        async with db.transaction() as s:
            assert await orders.acknowledge(s, await orders.get(s, order_id), user="@a:x", clock=clock)
            first_acked.set()
            await first_may_commit.wait()

    async def second() -> None:
        await first_acked.wait()
        async with db.transaction() as s:
            assert await orders.acknowledge(s, await orders.get(s, order_id), user="@b:x", clock=clock)

    one, two = asyncio.create_task(first()), asyncio.create_task(second())
    await first_acked.wait()
    await asyncio.sleep(0.3)  # the second turn goes as far as it can meanwhile
    first_may_commit.set()
    await asyncio.gather(one, two)

    async with db.reading() as s:
        card = await s.scalar(select(OutboxMessage).where(OutboxMessage.ref == f"card:O{order_id}"))
        assert card is not None
        edits = list(
            await s.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.relates_to_outbox_id == card.id, OutboxMessage.relation == "m.replace")
                .order_by(OutboxMessage.id)
            )
        )
    # The relay sends a card's edits in id order: the last one is what everyone sees.
    assert len(edits) == 2
    assert "2/2" in str(edits[-1].content["body"]), edits[-1].content["body"]
