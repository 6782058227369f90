"""Read receipts reach the `receipt` observer as typed events: in DM rooms, from other people."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from nio.events.ephemeral import ReceiptEvent as NioReceipt

from bot import BotClient, ClientOptions, Dispatcher, JoinPolicy, ReceiptEvent, Router

NOW_MS = int(time.time() * 1000)
DM = "!dm:office"
SHARED = "!shared:office"


@pytest.fixture
async def client() -> AsyncIterator[BotClient]:
    options = ClientOptions(
        homeserver="http://127.0.0.1:9", user_id="@zhiban:office", e2ee=False, join_policy=JoinPolicy(["office"])
    )
    bot = BotClient(options, Dispatcher())
    bot.direct_rooms = {"@li:office": [DM]}
    yield bot
    await bot.close()


def receipts(*entries: tuple[str, str, str]) -> list[Any]:
    content: dict[str, Any] = {}
    for event_id, kind, user in entries:
        content.setdefault(event_id, {}).setdefault(kind, {})[user] = {"ts": NOW_MS}
    return [NioReceipt.from_dict({"type": "m.receipt", "content": content})]


def test_a_read_receipt_in_a_dm_becomes_a_receipt_event(client: BotClient) -> None:
    found = client.receipts(DM, receipts(("$order", "m.read", "@li:office")))
    assert len(found) == 1
    event = found[0]
    assert isinstance(event, ReceiptEvent)
    assert (event.sender, event.read_up_to, event.receipt_type, event.is_dm) == ("@li:office", "$order", "m.read", True)
    # The same receipt delivered again is the same event (the ledger sees it once).
    again = client.receipts(DM, receipts(("$order", "m.read", "@li:office")))
    assert again[0].event_id == event.event_id


def test_own_foreign_shared_room_and_other_receipt_types_are_dropped(client: BotClient) -> None:
    assert client.receipts(DM, receipts(("$a", "m.read", "@zhiban:office"))) == []
    assert client.receipts(DM, receipts(("$a", "m.read", "@spy:elsewhere"))) == []
    assert client.receipts(DM, receipts(("$a", "m.fully_read", "@li:office"))) == []
    assert client.receipts(SHARED, receipts(("$a", "m.read", "@li:office"))) == []
    client.options.receipt_rooms = "all"
    assert len(client.receipts(SHARED, receipts(("$a", "m.read", "@li:office")))) == 1


async def test_the_receipt_observer_takes_it() -> None:
    dispatcher = Dispatcher()
    router = Router("reads")
    seen: list[str] = []

    @router.receipt()
    async def on_read(receipt: ReceiptEvent) -> None:
        seen.append(receipt.read_up_to)

    dispatcher.include_router(router)
    event = ReceiptEvent(room_id=DM, event_id="receipt:1", sender="@li:office", timestamp_ms=NOW_MS, source={})
    event.read_up_to = "$order"
    await dispatcher.feed(event)
    assert seen == ["$order"]
