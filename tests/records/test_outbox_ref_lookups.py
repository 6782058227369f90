"""What a reaction names is looked up once per transaction, however many features ask."""

from __future__ import annotations

from sqlalchemy import event, update

from records import outbox
from records.db import Database
from records.models import OutboxMessage


async def test_a_reacted_to_event_is_looked_up_once_per_transaction(db: Database) -> None:
    async with db.transaction() as session:
        card = await outbox.enqueue(session, outbox.text_content("O1"), room_id="!r:x", ref="card:O1")
    sent: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        if "FROM outbox" in statement:
            sent.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", seen)
    try:
        async with db.transaction() as session:
            for _ in range(5):  # the handover, alert, order, pin… handlers each ask
                assert await outbox.ref_for_event(session, "$card") is None
            assert len(sent) == 1
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", seen)
    # Once the card is sent under that event id, the next transaction finds it.
    async with db.transaction() as session:
        await session.execute(update(OutboxMessage).where(OutboxMessage.id == card.id).values(event_id="$card"))
    async with db.transaction() as session:
        assert await outbox.ref_for_event(session, "$card") == "card:O1"
