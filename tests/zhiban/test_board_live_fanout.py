"""The board's live fan-out with the real source: a wake-up names what its commit changed, only
the boards it names read again, only those sections, together; what they show is what a whole
read shows, and a board the change does not concern neither wakes nor learns anything. A wake-up
that cannot be sent fails no committed action. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import func, select

from commands.approvals import service
from commands.approvals.chain import parse_chain
from notifications.notice import NoticeSpec
from notifications.service import notify
from records import outbox, people
from records.clock import FrozenClock
from records.db import Database
from records.models import Person
from server.board import BoardAction, BoardChange, BoardHub, JsonObject
from tests.zhiban.test_board_wiring import EVE, REQ, ROOM, T0, A, B, decisions, start, wired
from zhiban import board_change
from zhiban.board_wiring import WiredBoard, as_change
from zhiban.features import FEATURES
from zhiban.wakeup import WakeBus

BOUND = 20.0


def every_section(tmp_path: Path, db: Database, database_url: str) -> WiredBoard:
    """The source with every feature's sections, as `zhiban server` wires it."""
    board = wired(tmp_path, db, database_url)
    return WiredBoard(board.settings, db, board.clock, None, [s for f in FEATURES for s in f.board_sections])


def titles(board: JsonObject, key: str) -> list[str]:
    sections = board["sections"]
    assert isinstance(sections, list)
    [section] = [s for s in sections if s["key"] == key]
    return [item["title"] for item in section["items"]]


def without_now(board: JsonObject) -> JsonObject:
    return {name: value for name, value in board.items() if name != "now"}


async def alert(db: Database, to: list[str], title: str) -> str | None:
    async with db.transaction() as session:
        spec = NoticeSpec(kind="alert", title=title, body="请做好准备。", dm="never")
        await notify(session, to, spec, clock=FrozenClock(T0))
    return board_change.named(session)


async def test_a_commit_names_the_sections_and_people_it_changed(db: Database) -> None:
    # A notice names the notices of the people it reached, and no one else's.
    named = await alert(db, [A, B], "防汛预警")
    assert named is not None
    assert as_change(named) == BoardChange(sections=frozenset({"notices"}), people=frozenset({A, B}))
    # An approval names its section, for anyone (who may see it is the section's own rule).
    async with db.transaction() as session:
        await service.start_approval(
            session, requester=REQ, title="请示", steps=parse_chain(f"{A} > {B}"), room_id=ROOM, clock=FrozenClock(T0)
        )
    named = board_change.named(session)
    assert named is not None and as_change(named).sections is not None
    assert "approvals" in (as_change(named).sections or ()) and as_change(named).people is None
    # A person's roles change what they may see everywhere: every section of every board.
    async with db.transaction() as session:
        await people.ensure_person(session, EVE)
    assert board_change.named(session) == "" and as_change("") == BoardChange()
    # A transaction that wrote nothing a board shows wakes no board.
    async with db.transaction() as session:
        await session.scalar(select(func.count()).select_from(Person))
        await outbox.enqueue(session, outbox.text_content("回复"), room_id=ROOM)
    assert board_change.named(session) is None


@asynccontextmanager
async def watching(hub: BoardHub, *users: str) -> AsyncIterator[dict[str, asyncio.Event]]:
    with hub.waiter(users[0]) as first, hub.waiter(users[1]) as second:
        yield {users[0]: first, users[1]: second}


async def test_a_named_change_reads_again_only_the_boards_it_names_and_they_match_a_whole_read(
    tmp_path: Path, db: Database, database_url: str
) -> None:
    source = every_section(tmp_path, db, database_url)
    hub = BoardHub(source)
    await alert(db, [A, B], "第一份通知")
    async with watching(hub, A, B) as wakes:
        before = {user: await hub.snapshot(user, "zh") for user in (A, B)}
        for wake in wakes.values():
            wake.clear()
        named = await alert(db, [A], "只给A的通知")
        assert named is not None
        hub.changed(as_change(named))
        async with asyncio.timeout(BOUND):
            await wakes[A].wait()
        assert not wakes[B].is_set(), "a board the change does not name is not woken"
        after = await hub.snapshot(A, "zh")
        assert titles(after, "notices") == ["只给A的通知", "第一份通知"]
        # Read in part and together, it is the board a whole read shows.
        assert without_now(after) == without_now(await source.snapshot(A, "zh"))
        # B's board is as it was, and never shows A's notice, even read again whole.
        assert await hub.snapshot(B, "zh") == before[B]
        assert titles(await source.snapshot(B, "zh"), "notices") == ["第一份通知"]
        # A change nobody named: every board reads itself whole and still sees only its own.
        hub.changed()
        async with asyncio.timeout(BOUND):
            await wakes[B].wait()
        assert titles(await hub.snapshot(B, "zh"), "notices") == ["第一份通知"]


async def test_a_change_during_a_read_is_not_lost(tmp_path: Path, db: Database, database_url: str) -> None:
    source = every_section(tmp_path, db, database_url)
    hub = BoardHub(source)
    async with watching(hub, A, B):
        await hub.snapshot(A, "zh")
        # Two notices whose wake-ups arrive while the first one's read is under way.
        first = await alert(db, [A], "第一份")
        hub.changed(as_change(first or ""))
        reading = asyncio.ensure_future(hub.snapshot(A, "zh"))
        await asyncio.sleep(0)
        second = await alert(db, [A], "第二份")
        hub.changed(as_change(second or ""))
        await reading
        await asyncio.sleep(0.05)
        assert titles(await hub.snapshot(A, "zh"), "notices")[:2] == ["第二份", "第一份"]


async def silent_redis() -> tuple[asyncio.Server, str]:
    """A server that takes the connection and never answers (a Redis hung or a black hole)."""

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # until the client gives up

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"redis://127.0.0.1:{port}/0"


async def test_an_action_whose_wake_up_cannot_be_sent_still_succeeds(
    tmp_path: Path, db: Database, database_url: str
) -> None:
    approval_id = await start(db)
    server, url = await silent_redis()
    bus = WakeBus(url, "board-test")
    board = wired(tmp_path, db, database_url, bus)
    try:
        async with asyncio.timeout(BOUND):
            done = await board.act(A, BoardAction(kind="approve", ref=f"A{approval_id}", key="hung-0001-redis"))
    finally:
        server.close()
        await board.close()
    # The decision committed, the person is told so, and this copy's boards still learn of it.
    assert (done.status, done.replayed) == (200, False)
    assert await decisions(db, approval_id) == [(A, "approve")]
    assert done.change.sections is not None and "approvals" in done.change.sections


async def test_a_refused_wake_up_connection_fails_nothing(tmp_path: Path, db: Database, database_url: str) -> None:
    approval_id = await start(db)
    server, url = await silent_redis()
    server.close()
    await server.wait_closed()  # nothing listens on that port now
    board: WiredBoard = wired(tmp_path, db, database_url, WakeBus(url, "board-test"))
    try:
        done = await board.act(A, BoardAction(kind="approve", ref=f"A{approval_id}", key="gone-0001-redis"))
    finally:
        await board.close()
    assert done.status == 200 and await decisions(db, approval_id) == [(A, "approve")]


def texts_of(board: JsonObject) -> str:
    return json.dumps(board["sections"], ensure_ascii=False)


async def test_the_board_shows_people_by_name_as_the_chat_cards_do(
    tmp_path: Path, db: Database, database_url: str
) -> None:
    async with db.transaction() as session:
        await people.learn_names(session, {REQ: "王主任", B: "李处长"})
    await start(db)
    source = every_section(tmp_path, db, database_url)
    hub = BoardHub(source)
    async with watching(hub, A, B) as wakes:
        whole = await hub.snapshot(A, "zh")
        assert "发起人：王主任" in texts_of(whole) and REQ not in texts_of(whole)
        # Read again in part (a named change), the new lines are by name too.
        wakes[A].clear()
        async with db.transaction() as session:
            await service.start_approval(
                session, requester=B, title="第二份请示", steps=parse_chain(A), room_id=ROOM, clock=FrozenClock(T0)
            )
        hub.changed(as_change(board_change.named(session) or ""))
        async with asyncio.timeout(BOUND):
            await wakes[A].wait()
        part = await hub.snapshot(A, "zh")
    assert "第二份请示" in texts_of(part) and "发起人：李处长" in texts_of(part)
    assert REQ not in texts_of(part) and B not in texts_of(part)
