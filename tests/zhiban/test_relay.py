"""The outbox relay sends what others wrote as soon as it is woken, not on its next poll,
even when the wake-up arrives while it is reading the table."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from records import outbox
from records.db import Database
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
