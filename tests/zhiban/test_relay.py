"""The outbox relay sends what others wrote as soon as it is woken, not on its next poll,
even when the wake-up arrives while it is reading the table."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace
from typing import Any

import pytest

from bot.errors import MatrixError
from records import outbox
from records.db import Database
from records.models import OutboxMessage
from zhiban import relay as relay_module
from zhiban.relay import OutboxRelay


class RecordingClient:
    """Just enough of BotClient for the relay: it records what would reach Synapse."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any], str]] = []
        self.arrived = asyncio.Event()

    def dm_owners(self) -> dict[str, str]:
        return {}

    async def send_event(self, room_id: str, event_type: str, content: dict[str, Any], *, txn_id: str) -> str:
        self.sent.append((room_id, content, txn_id))
        self.arrived.set()
        return f"$event{len(self.sent)}"


async def _queue(db: Database, body: str) -> None:
    async with db.transaction() as session:
        await outbox.enqueue(session, outbox.text_content(body), room_id="!room:example.org")


async def test_a_wake_without_rows_reads_the_table_at_once(db: Database) -> None:
    client = RecordingClient()
    # An hour between polls: only the wake-up can explain a prompt send.
    relay = OutboxRelay(db, client, poll_interval=3600)  # type: ignore[arg-type]
    task = asyncio.create_task(relay.run())
    try:
        await _queue(db, "first")
        relay.wake()
        await asyncio.wait_for(client.arrived.wait(), 30)
        client.arrived.clear()
        # Caught up now. A worker (another process) writes a row and wakes us through Redis,
        # which carries no rows: the relay must look at the table rather than its hand-overs.
        await _queue(db, "from a worker")
        relay.wake()
        await asyncio.wait_for(client.arrived.wait(), 30)
    finally:
        relay.stop()
        await task
    assert [content["body"] for _, content, _ in client.sent] == ["first", "from a worker"]
    async with db.reading() as session:
        assert not await outbox.pending(session)
    assert all(txn.startswith("zb") for _, _, txn in client.sent)


async def test_a_wake_during_a_read_of_the_table_is_not_lost(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    client = RecordingClient()
    relay = OutboxRelay(db, client, poll_interval=3600)  # type: ignore[arg-type]
    reading, go_on = asyncio.Event(), asyncio.Event()
    real_pending = outbox.pending

    async def slow_first_read(session: Any) -> Any:
        rows = await real_pending(session)
        if not reading.is_set():
            reading.set()
            await go_on.wait()  # the table was read (empty); its answer is not back yet
        return rows

    monkeypatch.setattr(relay_module.outbox, "pending", slow_first_read)
    task = asyncio.create_task(relay.run())
    try:
        await asyncio.wait_for(reading.wait(), 30)
        await _queue(db, "written while the relay was reading")
        relay.wake()
        go_on.set()
        await asyncio.wait_for(client.arrived.wait(), 30)
    finally:
        relay.stop()
        await task
    assert [content["body"] for _, content, _ in client.sent] == ["written while the relay was reading"]


# Secrets in messages (a sign-in link): sent for real, then dropped from the stored row.

LINK = "https://push.example.org/push/signin/s3cret-token"
PLACEHOLDER = "[link]"


async def _queue_secret(db: Database) -> int:
    async with db.transaction() as session:
        row = await outbox.enqueue(
            session,
            outbox.text_content(f"open {PLACEHOLDER} now"),
            room_id="!dm:example.org",
            secrets={PLACEHOLDER: LINK},
        )
        return row.id


async def _stored(db: Database, row_id: int) -> Any:
    async with db.reading() as session:
        row = await session.get(OutboxMessage, row_id)
        assert row is not None
        return row


class FlakyClient(RecordingClient):
    """The homeserver takes the event, but the answer is lost (a crash, a dropped connection)."""

    def __init__(self, failures: int, error: Exception) -> None:
        super().__init__()
        self.failures, self.error = failures, error

    async def send_event(self, room_id: str, event_type: str, content: dict[str, Any], *, txn_id: str) -> str:
        event_id = await super().send_event(room_id, event_type, content, txn_id=txn_id)
        if self.failures:
            self.failures -= 1
            raise self.error
        return event_id


async def test_a_secret_is_sent_and_then_forgotten(db: Database) -> None:
    row_id = await _queue_secret(db)
    assert LINK in json.dumps((await _stored(db, row_id)).content), "kept until it is sent"
    client = RecordingClient()
    await OutboxRelay(db, client).relay_once()  # type: ignore[arg-type]
    [(_, content, _)] = client.sent
    assert content == {"msgtype": "m.text", "body": f"open {LINK} now"}
    stored = await _stored(db, row_id)
    assert stored.sent_at is not None and LINK not in json.dumps(stored.content)
    assert stored.content["body"] == f"open {PLACEHOLDER} now"


async def test_a_resend_after_a_lost_answer_still_carries_the_secret(db: Database) -> None:
    row_id = await _queue_secret(db)
    client = FlakyClient(1, ConnectionError("connection reset"))
    relay = OutboxRelay(db, client)  # type: ignore[arg-type]
    await relay.relay_once()
    await relay.relay_once()
    first, second = client.sent
    # The same transaction id: the homeserver keeps one event, and it has the real link.
    assert first[2] == second[2] and LINK in first[1]["body"] and LINK in second[1]["body"]
    stored = await _stored(db, row_id)
    assert stored.sent_at is not None and LINK not in json.dumps(stored.content)


async def test_a_message_that_fails_for_good_forgets_its_secret(db: Database) -> None:
    row_id = await _queue_secret(db)
    client = FlakyClient(1, MatrixError(SimpleNamespace(status_code="M_FORBIDDEN", message="not in room")))
    await OutboxRelay(db, client).relay_once()  # type: ignore[arg-type]
    stored = await _stored(db, row_id)
    assert stored.failed and stored.sent_at is None and LINK not in json.dumps(stored.content)
