"""The sync token is saved only when every event of its batch was handled (or recorded)."""

from __future__ import annotations

import asyncio

import pytest

from bot import BotClient, ClientOptions, Dispatcher
from bot.client import MemoryTokenStore


@pytest.fixture
async def client() -> BotClient:
    store = MemoryTokenStore()
    bot = BotClient(
        ClientOptions(homeserver="http://127.0.0.1:9", user_id="@z:x", e2ee=False), Dispatcher(), token_store=store
    )
    bot.TOKEN_SAVE_INTERVAL = 0  # every batch, so the order can be observed
    yield bot
    await bot.close()


async def done(result: object = None) -> object:
    return result


async def failing() -> None:
    raise ConnectionError("database unreachable")


async def test_tokens_are_saved_in_order_after_their_events(client: BotClient) -> None:
    gate = asyncio.Event()

    async def slow() -> None:
        await gate.wait()

    client._checkpoint([asyncio.ensure_future(slow())], "t1")
    client._checkpoint([asyncio.ensure_future(done())], "t2")
    await asyncio.sleep(0.05)
    assert await client.token_store.load() is None  # t2 waits for t1, which waits for its event
    gate.set()
    assert client._last_checkpoint is not None
    await client._last_checkpoint
    assert await client.token_store.load() == "t2"


async def test_a_batch_with_an_unrecorded_event_keeps_the_old_token_and_stops(client: BotClient) -> None:
    client._checkpoint([asyncio.ensure_future(done())], "t1")
    client._checkpoint([asyncio.ensure_future(failing())], "t2")
    client._checkpoint([asyncio.ensure_future(done())], "t3")
    assert client._last_checkpoint is not None
    await client._last_checkpoint
    assert await client.token_store.load() == "t1"
    assert client.fatal is not None and client._stop.is_set()


async def test_a_failed_save_does_not_stop_later_saves(client: BotClient) -> None:
    calls: list[str] = []
    saved: list[str] = []

    async def flaky_save(token: str) -> None:
        calls.append(token)
        if token == "t1":
            raise OSError("database is locked")
        saved.append(token)

    client.token_store.save = flaky_save  # type: ignore[method-assign]
    client._checkpoint([], "t1")
    client._checkpoint([], "t2")
    assert client._last_checkpoint is not None
    await client._last_checkpoint
    assert calls == ["t1", "t2"] and saved == ["t2"] and client.fatal is None


async def test_tokens_are_written_at_most_every_interval_and_on_stop(client: BotClient) -> None:
    client.TOKEN_SAVE_INTERVAL = 3600
    for token in ("t1", "t2", "t3"):
        client._checkpoint([asyncio.ensure_future(done())], token)
    assert client._last_checkpoint is not None
    await client._last_checkpoint
    assert await client.token_store.load() == "t1"  # the first batch; the rest wait
    await client.stop()
    assert await client.token_store.load() == "t3"  # nothing handled is left unrecorded on stop
