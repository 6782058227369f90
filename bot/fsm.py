"""Finite-state machines for step-by-step flows (wizards).

State is kept per user and room, and per thread when the flow runs in one. Two storages here:
in memory (tests, a single process) and Redis. An application may bring its own (Zhiban keeps
the state in its database, written in the transaction of the turn that changes it).
"""

from __future__ import annotations

import asyncio
import json
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from bot.types import Event


class State:
    """One step of a flow. Its name is set by the StatesGroup it belongs to."""

    def __init__(self) -> None:
        self.name = ""

    def __set_name__(self, owner: type, attr: str) -> None:
        self.name = f"{owner.__name__}:{attr}"

    def __str__(self) -> str:
        return self.name

    def __eq__(self, other: object) -> bool:
        if isinstance(other, State):
            return self.name == other.name
        return isinstance(other, str) and self.name == other

    def __hash__(self) -> int:
        return hash(self.name)


class StatesGroup:
    """Subclass and declare `State()` attributes; `Group.states()` lists them in order."""

    @classmethod
    def states(cls) -> list[State]:
        return [v for v in vars(cls).values() if isinstance(v, State)]

    @classmethod
    def contains(cls, state: str | None) -> bool:
        return state is not None and any(s.name == state for s in cls.states())


def _escape(part: str) -> str:
    # Matrix IDs contain ':'; escape it so that key parts cannot run into one another.
    return part.replace("\\", "\\\\").replace(":", "\\:")


@dataclass(frozen=True)
class StorageKey:
    room_id: str
    user_id: str
    thread_id: str = ""

    def as_str(self) -> str:
        return ":".join(_escape(p) for p in (self.room_id, self.user_id, self.thread_id))

    @classmethod
    def for_event(cls, event: Event, *, thread_id: str | None = None) -> StorageKey:
        return cls(event.room_id, event.sender, thread_id or "")


class BaseStorage(Protocol):
    async def get(self, key: StorageKey) -> tuple[str | None, dict[str, Any]]: ...

    async def set(self, key: StorageKey, state: str | None, data: dict[str, Any]) -> None: ...

    def lock(self, key: StorageKey) -> Any: ...

    async def close(self) -> None: ...


class KeyLocks:
    """One asyncio lock per key, in this process.

    One bot instance is active per account (it holds a lease; standbys wait), so a lock in
    this process is enough, whatever keeps the state, and costs no round trip.
    """

    def __init__(self) -> None:
        # Weak: a lock lives while someone holds or waits for it, then goes.
        self._locks: weakref.WeakValueDictionary[StorageKey, asyncio.Lock] = weakref.WeakValueDictionary()

    @asynccontextmanager
    async def __call__(self, key: StorageKey) -> AsyncIterator[None]:
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        async with lock:
            yield


class MemoryStorage:
    def __init__(self) -> None:
        self._items: dict[StorageKey, tuple[str | None, dict[str, Any]]] = {}
        self.lock = KeyLocks()

    async def get(self, key: StorageKey) -> tuple[str | None, dict[str, Any]]:
        state, data = self._items.get(key, (None, {}))
        return state, dict(data)

    async def set(self, key: StorageKey, state: str | None, data: dict[str, Any]) -> None:
        if state is None and not data:
            self._items.pop(key, None)
        else:
            self._items[key] = (state, dict(data))

    async def close(self) -> None:
        self._items.clear()


class RedisStorage:
    """State in Redis, under `prefix`, expiring after `ttl` seconds of inactivity."""

    def __init__(self, redis: Any, *, prefix: str = "zhiban:fsm", ttl: int = 7 * 24 * 3600) -> None:
        self.redis = redis  # a redis.asyncio.Redis
        self.prefix = prefix
        self.ttl = ttl
        # In this process: a Redis lock would add two round trips to every event.
        self.lock = KeyLocks()

    def _key(self, key: StorageKey) -> str:
        return f"{self.prefix}:{key.as_str()}"

    async def get(self, key: StorageKey) -> tuple[str | None, dict[str, Any]]:
        raw = await self.redis.get(self._key(key))
        if raw is None:
            return None, {}
        stored = json.loads(raw)
        return stored.get("state"), stored.get("data", {})

    async def set(self, key: StorageKey, state: str | None, data: dict[str, Any]) -> None:
        if state is None and not data:
            await self.redis.delete(self._key(key))
            return
        value = json.dumps({"state": state, "data": data}, ensure_ascii=False)
        await self.redis.set(self._key(key), value, ex=self.ttl)

    async def close(self) -> None:
        await self.redis.aclose()


class FSMContext:
    """What a handler sees as `state`: read and change its user's flow."""

    def __init__(self, storage: BaseStorage, key: StorageKey) -> None:
        self.storage = storage
        self.key = key
        # Read once per event: every state filter of every router asks, and the event's
        # lock guarantees nobody else changes it meanwhile.
        self._cached: tuple[str | None, dict[str, Any]] | None = None

    async def _load(self) -> tuple[str | None, dict[str, Any]]:
        if self._cached is None:
            self._cached = await self.storage.get(self.key)
        return self._cached[0], dict(self._cached[1])

    async def _store(self, state: str | None, data: dict[str, Any]) -> None:
        await self.storage.set(self.key, state, data)
        self._cached = (state, dict(data))

    async def get_state(self) -> str | None:
        return (await self._load())[0]

    async def set_state(self, state: State | str | None) -> None:
        _, data = await self._load()
        await self._store(None if state is None else str(state), data)

    async def get_data(self) -> dict[str, Any]:
        return (await self._load())[1]

    async def update_data(self, **values: Any) -> dict[str, Any]:
        state, data = await self._load()
        data.update(values)
        await self._store(state, data)
        return data

    async def set_data(self, data: dict[str, Any]) -> None:
        state, _ = await self._load()
        await self._store(state, data)

    async def clear(self) -> None:
        await self._store(None, {})


def StateFilter(*states: State | str | None):  # type: ignore[no-untyped-def]
    """Passes when the user's current state is one of `states` ("*" for any, None for none)."""
    wanted = {None if s is None else str(s) for s in states}

    async def _state(event: Event, data: dict[str, Any]) -> bool:
        if "*" in wanted:
            return True
        context: FSMContext | None = data.get("state")
        current = None if context is None else await context.get_state()
        return current in wanted

    return _state
