"""FSM storages keep state per room, user and thread; Redis state survives a new client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from bot.fsm import FSMContext, MemoryStorage, RedisStorage, StorageKey


@pytest.fixture(params=["memory", "redis"])
async def storage(request: pytest.FixtureRequest) -> AsyncIterator[MemoryStorage | RedisStorage]:
    if request.param == "memory":
        yield MemoryStorage()
        return
    url = request.getfixturevalue("redis_url")
    store = RedisStorage(aioredis.Redis.from_url(url), prefix=f"test:{request.node.name}")
    yield store
    await store.close()


async def test_state_is_scoped_by_room_user_and_thread(storage: MemoryStorage | RedisStorage) -> None:
    a = FSMContext(storage, StorageKey("!r:x", "@a:x"))
    a_thread = FSMContext(storage, StorageKey("!r:x", "@a:x", "$root"))
    b = FSMContext(storage, StorageKey("!r:x", "@b:x"))
    await a.set_state("Form:title")
    await a.update_data(title="防汛")
    assert await a.get_state() == "Form:title"
    assert await a.get_data() == {"title": "防汛"}
    assert await a_thread.get_state() is None and await b.get_state() is None
    await a.clear()
    assert await a.get_state() is None and await a.get_data() == {}


def test_keys_with_colons_cannot_collide() -> None:
    one = StorageKey("!r:x", "@a:x:y")
    two = StorageKey("!r:x:@a", "x:y")
    assert one.as_str() != two.as_str()


async def test_redis_state_survives_a_new_connection(redis_url: str) -> None:
    key = StorageKey("!persist:x", "@a:x")
    first = RedisStorage(aioredis.Redis.from_url(redis_url), prefix="test:persist")
    await FSMContext(first, key).set_state("Report:place")
    await first.close()
    second = RedisStorage(aioredis.Redis.from_url(redis_url), prefix="test:persist")
    context = FSMContext(second, key)
    async with second.lock(key):
        assert await context.get_state() == "Report:place"
    await context.clear()
    await second.close()
