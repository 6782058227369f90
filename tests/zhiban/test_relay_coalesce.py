"""Edits of one message waiting together go out as one: the newest. A card that 200 responders
redraw while the relay is busy reaches the homeserver once, showing them all, and an edit never
goes out after a newer one of the same message."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import select

from records import outbox
from records.db import Database
from records.models import OutboxMessage
from tests.zhiban.test_relay import RecordingClient, _refusal
from zhiban.relay import SUPERSEDED_BY, OutboxRelay

ROOM = "!incident:example.org"


async def _card(db: Database) -> int:
    async with db.transaction() as session:
        card = await outbox.enqueue(session, outbox.text_content("0/3 acknowledged"), room_id=ROOM, ref="card:O1")
        return card.id


async def _edit(db: Database, body: str) -> OutboxMessage:
    async with db.transaction() as session:
        edits = await outbox.enqueue_edits(session, "card:O1", outbox.text_content(body))
        assert len(edits) == 1
        return edits[0]


async def _pass(relay: OutboxRelay) -> None:
    """One pass over the table, as after a worker's wake-up."""
    relay.wake()
    await relay.relay_once()


def _bodies(client: RecordingClient) -> list[str]:
    return [str(content.get("m.new_content", content).get("body")) for _, content, _ in client.sent]


async def _rows(db: Database) -> list[OutboxMessage]:
    async with db.reading() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_of_several_waiting_edits_of_a_card_only_the_newest_is_sent(db: Database) -> None:
    client = RecordingClient()
    relay = OutboxRelay(db, client)  # type: ignore[arg-type]
    await _card(db)
    await _pass(relay)
    edits = [await _edit(db, f"{n}/3 acknowledged") for n in (1, 2, 3)]
    async with db.transaction() as session:  # another message in the room, after the edits
        await outbox.enqueue(session, outbox.text_content("meeting at 9"), room_id=ROOM)
    await _pass(relay)
    assert _bodies(client) == ["0/3 acknowledged", "3/3 acknowledged", "meeting at 9"]
    rows = {row.id: row for row in await _rows(db)}
    newest = rows[edits[-1].id]
    assert newest.event_id is not None
    for older in edits[:-1]:
        row = rows[older.id]
        assert row.sent_at is not None and row.event_id is None and not row.failed
        assert row.last_error == f"{SUPERSEDED_BY}{newest.id}"
    async with db.reading() as session:
        assert not await outbox.pending(session)


async def test_an_edit_committed_late_never_goes_out_after_a_newer_one(db: Database) -> None:
    """Two turns edit the card; the newer commits and is sent first (PostgreSQL commits need not
    follow id order). The older, handed over afterwards, would put the card back: it is not sent."""
    client = RecordingClient()
    relay = OutboxRelay(db, client, poll_interval=3600)  # type: ignore[arg-type]
    await _card(db)
    await _pass(relay)
    older = await _edit(db, "1/3 acknowledged")
    newer = await _edit(db, "2/3 acknowledged")
    for handed_over in (newer, older):
        relay._last_read = time.monotonic()  # only the hand-over, as between two polls
        relay.wake([handed_over])
        await relay.relay_once()
    assert _bodies(client) == ["0/3 acknowledged", "2/3 acknowledged"]
    rows: dict[int, Any] = {row.id: row for row in await _rows(db)}
    assert rows[older.id].event_id is None and rows[older.id].last_error == f"{SUPERSEDED_BY}{newer.id}"


async def test_edits_of_different_messages_are_each_sent(db: Database) -> None:
    client = RecordingClient()
    relay = OutboxRelay(db, client)  # type: ignore[arg-type]
    async with db.transaction() as session:
        await outbox.enqueue(session, outbox.text_content("order O1"), room_id=ROOM, ref="card:O1")
        await outbox.enqueue(session, outbox.text_content("order O2"), room_id=ROOM, ref="card:O2")
    await _pass(relay)
    async with db.transaction() as session:
        await outbox.enqueue_edits(session, "card:O1", outbox.text_content("O1 done"))
        await outbox.enqueue_edits(session, "card:O2", outbox.text_content("O2 done"))
    await _pass(relay)
    assert _bodies(client) == ["order O1", "order O2", "O1 done", "O2 done"]


class RefusingClient(RecordingClient):
    """A homeserver that does not take edits with a given body: unreachable for them (tried
    again later) or rejecting them for good (the event itself is invalid)."""

    def __init__(self, refused: str, *, for_good: bool = False) -> None:
        super().__init__()
        self.refused: str | None = refused
        self.for_good = for_good

    async def send_event(self, room_id: str, event_type: str, content: dict[str, Any], *, txn_id: str) -> str:
        if content.get("m.new_content", {}).get("body") == self.refused:
            if self.for_good:
                raise _refusal(413, "M_TOO_LARGE")
            raise ConnectionError("homeserver did not answer")
        return await super().send_event(room_id, event_type, content, txn_id=txn_id)


async def test_older_edits_wait_while_the_newest_is_not_through(db: Database) -> None:
    """The newest edit fails for a while: the older stay pending until it is sent, and only then
    are they marked superseded."""
    client = RefusingClient("3/3 acknowledged")
    relay = OutboxRelay(db, client)  # type: ignore[arg-type]
    await _card(db)
    await _pass(relay)
    edits = [await _edit(db, f"{n}/3 acknowledged") for n in (1, 2, 3)]
    await _pass(relay)
    assert _bodies(client) == ["0/3 acknowledged"]
    async with db.reading() as session:
        assert [row.id for row in await outbox.pending(session)] == [edit.id for edit in edits]
    client.refused = None  # the homeserver is back
    relay._due.clear()  # the lane's retry is due
    await _pass(relay)
    assert _bodies(client) == ["0/3 acknowledged", "3/3 acknowledged"]
    rows = {row.id: row for row in await _rows(db)}
    for older in edits[:-1]:
        assert rows[older.id].last_error == f"{SUPERSEDED_BY}{edits[-1].id}"
    async with db.reading() as session:
        assert not await outbox.pending(session)


async def test_when_the_newest_edit_fails_for_good_the_one_before_it_is_sent(db: Database) -> None:
    client = RefusingClient("3/3 acknowledged", for_good=True)
    relay = OutboxRelay(db, client)  # type: ignore[arg-type]
    await _card(db)
    await _pass(relay)
    edits = [await _edit(db, f"{n}/3 acknowledged") for n in (1, 2, 3)]
    await _pass(relay)
    await _pass(relay)
    assert _bodies(client) == ["0/3 acknowledged", "2/3 acknowledged"]
    rows = {row.id: row for row in await _rows(db)}
    assert rows[edits[-1].id].failed
    assert rows[edits[0].id].last_error == f"{SUPERSEDED_BY}{edits[1].id}"
