"""Wizard state in the database: kept per room, user and thread, written with the turn that moves it.

Each test runs on SQLite and on PostgreSQL (the `db` fixture).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select

from bot import Command, FSMContext, Message, Router, State, StateFilter, StatesGroup
from bot.fsm import StorageKey
from records.clock import FrozenClock
from records.config import Settings
from records.db import Database
from records.models import WizardState
from tests.support.dispatch_chat import DispatchChat
from zhiban.app import build_dispatcher
from zhiban.fsm_store import DatabaseStorage, bound_to

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ROOM = "!wizard:localhost"
ALICE = "@alice:localhost"


async def test_state_is_scoped_by_room_user_and_thread(db: Database) -> None:
    storage = DatabaseStorage(db, FrozenClock(T0))
    a = FSMContext(storage, StorageKey("!r:x", "@a:x"))
    a_thread = FSMContext(storage, StorageKey("!r:x", "@a:x", "$root"))
    b = FSMContext(storage, StorageKey("!r:x", "@b:x"))
    await a.set_state("Form:title")
    await a.update_data(title="防汛", steps=[1, 2])
    assert await a_thread.get_state() is None and await b.get_state() is None
    # A new storage (a restarted bot) reads what the first one wrote.
    again = FSMContext(DatabaseStorage(db, FrozenClock(T0)), StorageKey("!r:x", "@a:x"))
    assert await again.get_state() == "Form:title"
    assert await again.get_data() == {"title": "防汛", "steps": [1, 2]}
    await again.clear()
    assert await FSMContext(storage, StorageKey("!r:x", "@a:x")).get_state() is None
    async with db.reading() as session:
        assert await session.scalar(select(func.count()).select_from(WizardState)) == 0


async def test_the_longest_room_user_and_thread_ids_fit(db: Database) -> None:
    # Matrix ids take up to 255 bytes; every ':' in them is escaped, doubling it.
    longest = StorageKey("!" + ":" * 254, "@" + ":" * 254, "$" + ":" * 254)
    storage = DatabaseStorage(db, FrozenClock(T0))
    await storage.set(longest, "Form:first", {"n": 1})
    assert await storage.get(longest) == ("Form:first", {"n": 1})


async def test_a_write_joins_the_bound_transaction_and_rolls_back_with_it(db: Database) -> None:
    storage = DatabaseStorage(db, FrozenClock(T0))
    key = StorageKey(ROOM, ALICE)
    await storage.set(key, "Form:first", {"n": 1})
    with pytest.raises(RuntimeError):
        async with db.transaction() as session:
            with bound_to(session):
                await storage.set(key, "Form:second", {"n": 2})
                assert await storage.get(key) == ("Form:second", {"n": 2})  # seen inside the turn
            raise RuntimeError("the turn failed")
    assert await storage.get(key) == ("Form:first", {"n": 1})


async def test_an_abandoned_wizard_expires(db: Database) -> None:
    clock = FrozenClock(T0)
    storage = DatabaseStorage(db, clock, ttl=timedelta(hours=6))
    old, fresh = StorageKey(ROOM, ALICE), StorageKey(ROOM, "@bob:localhost")
    await storage.set(old, "Form:first", {"n": 1})
    clock.advance(timedelta(hours=5))
    await storage.set(fresh, "Form:first", {})
    assert await storage.get(old) == ("Form:first", {"n": 1})
    clock.advance(timedelta(hours=1, seconds=1))
    # Six hours after its last step, the first wizard is gone; the second one is still there.
    assert await storage.get(old) == (None, {})
    assert await storage.get(fresh) == ("Form:first", {})
    # Expired rows are deleted by a later write, not kept for ever.
    clock.advance(timedelta(hours=2))
    await storage.set(StorageKey(ROOM, "@carol:localhost"), "Form:first", {})
    async with db.reading() as session:
        assert await session.scalar(select(func.count()).select_from(WizardState)) == 2


class Steps(StatesGroup):
    first = State()
    second = State()


def _steps_router() -> Router:
    """A two-question wizard whose answer "boom" fails after the step has moved on."""
    router = Router("test.steps")

    @router.message(Command("steps"))
    async def start(message: Message, state: FSMContext) -> None:
        await state.set_state(Steps.first)
        await message.reply("first?")

    @router.message(StateFilter(Steps.first))
    async def first(message: Message, state: FSMContext) -> None:
        await state.update_data(first=message.body)
        await state.set_state(Steps.second)
        if message.body == "boom":
            raise RuntimeError("the database went away mid-turn")
        await message.reply("second?")

    @router.message(StateFilter(Steps.second))
    async def second(message: Message, state: FSMContext, **_: Any) -> None:
        data = await state.get_data()
        await state.clear()
        await message.reply(f"done: {data['first']} / {message.body}")

    return router


async def test_a_turn_that_fails_leaves_the_wizard_where_it_was(db: Database) -> None:
    chat = DispatchChat(db, FrozenClock(T0), room=ROOM)
    chat.dispatcher.include_router(_steps_router())
    assert await chat.reply_to(ALICE, "!steps") == "first?"
    # The turn fails after moving the wizard on: the user gets an apology…
    assert "处理时出错了" in await chat.reply_to(ALICE, "boom")
    # …and the same question stands: the next answer is taken as the answer to "first?".
    assert await chat.reply_to(ALICE, "防汛") == "second?"
    assert await chat.reply_to(ALICE, "城东") == "done: 防汛 / 城东"


class Statements:
    """The SQL statements a database is sent meanwhile."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.sent: list[str] = []

    def __enter__(self) -> list[str]:
        event.listen(self.db.engine.sync_engine, "before_cursor_execute", self._seen)
        return self.sent

    def __exit__(self, *_exc: object) -> None:
        event.remove(self.db.engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        self.sent.append(statement)


async def test_a_committed_step_is_read_again_without_asking_the_database(db: Database) -> None:
    storage = DatabaseStorage(db, FrozenClock(T0))
    key, nobody = StorageKey(ROOM, ALICE), StorageKey(ROOM, "@bob:localhost")
    async with db.transaction() as session:
        with bound_to(session):
            await storage.set(key, "Form:first", {"n": 1})
            assert await storage.get(nobody) == (None, {})
    with Statements(db) as sent:
        async with db.transaction() as session:
            with bound_to(session):
                assert await storage.get(key) == ("Form:first", {"n": 1})
                assert await storage.get(nobody) == (None, {})
    assert not [s for s in sent if "fsm" in s.lower()]
    # Another storage on the same database (the bot's, after a restart of its dispatcher) agrees.
    assert await DatabaseStorage(db, FrozenClock(T0)).get(key) == ("Form:first", {"n": 1})


async def test_a_rolled_back_step_is_never_served_from_memory(db: Database) -> None:
    storage = DatabaseStorage(db, FrozenClock(T0))
    key = StorageKey(ROOM, ALICE)
    await storage.set(key, "Form:first", {"n": 1})
    assert await storage.get(key) == ("Form:first", {"n": 1})
    with pytest.raises(RuntimeError):
        async with db.transaction() as session:
            with bound_to(session):
                await storage.set(key, "Form:second", {"n": 2})
                raise RuntimeError("the turn failed")
    assert await storage.get(key) == ("Form:first", {"n": 1})
    # A savepoint rolled back inside a turn undoes its step for the rest of the turn too.
    async with db.transaction() as session:
        with bound_to(session):
            with pytest.raises(RuntimeError):
                async with session.begin_nested():
                    await storage.set(key, "Form:third", {"n": 3})
                    raise RuntimeError("a part of the turn failed")
            assert await storage.get(key) == ("Form:first", {"n": 1})
    assert await storage.get(key) == ("Form:first", {"n": 1})


async def test_a_new_lease_cycle_reads_what_another_instance_wrote_meanwhile(db: Database) -> None:
    key = StorageKey(ROOM, ALICE)
    # This bot holds the lease: Alice's first step is written and kept in memory.
    storage = DatabaseStorage(db, FrozenClock(T0))
    await storage.set(key, "Form:first", {"n": 1})
    assert await storage.get(key) == ("Form:first", {"n": 1})
    # It loses the lease; the instance that takes over (its own connections) moves her on.
    other = Database(db.url)
    try:
        await DatabaseStorage(other, FrozenClock(T0)).set(key, "Form:second", {"n": 2})
    finally:
        await other.dispose()
    # This bot takes the lease back and builds its dispatcher again, as bot_runner does at
    # each start of serving: the step taken meanwhile is what it reads, not its memory.
    again = build_dispatcher(Settings(database={"url": db.url}), db, clock=FrozenClock(T0))
    assert await again.storage.get(key) == ("Form:second", {"n": 2})
    assert await storage.get(key) == ("Form:second", {"n": 2})
