"""The outbox queues in order and links edits to their card; the ledger refuses a second handling."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from records import ledger, outbox
from records.db import Database


async def test_pending_rows_come_in_order_and_edits_point_at_their_card(db: Database) -> None:
    async with db.transaction() as session:
        card = await outbox.enqueue(session, outbox.text_content("审批 A1：待审"), room_id="!r:x", ref="card:A1")
        await outbox.enqueue(session, outbox.text_content("私信"), to_user="@u:x")
        edit = await outbox.enqueue_edit(session, "card:A1", outbox.text_content("审批 A1：已同意"))
    assert edit is not None
    async with db.transaction() as session:
        rows = await outbox.pending(session)
    assert [r.id for r in rows] == sorted(r.id for r in rows)
    assert rows[2].relates_to_outbox_id == card.id and rows[2].relation == "m.replace"
    assert rows[2].content["m.new_content"]["body"] == "审批 A1：已同意"
    assert rows[1].to_user == "@u:x" and rows[1].room_id is None


async def test_enqueue_needs_exactly_one_destination(db: Database) -> None:
    async with db.transaction() as session:
        with pytest.raises(ValueError):
            await outbox.enqueue(session, {"body": "x"})


async def test_an_event_is_marked_handled_once(db: Database) -> None:
    async with db.transaction() as session:
        assert await ledger.mark_handled(session, "$e1", "!r:x")
    async with db.transaction() as session:
        assert await ledger.already_handled(session, "$e1")
        assert not await ledger.already_handled(session, "$e2")
    async with db.transaction() as session:
        # The replay is told, and its transaction stays usable (no aborted PostgreSQL transaction).
        assert not await ledger.mark_handled(session, "$e1", "!r:x")
        assert await ledger.already_handled(session, "$e1")


async def test_a_racing_copy_waits_for_the_first_and_handles_only_what_it_rolled_back(db: Database) -> None:
    """Two bot processes given the same event at once (a takeover): the second waits on the
    first's uncommitted row, then is told it was handled; had the first rolled back, the second
    handles it."""
    if db.is_sqlite:
        pytest.skip("SQLite has one writer at a time: a second transaction cannot start meanwhile")
    first_holds, first_may_end = asyncio.Event(), asyncio.Event()

    async def first(event_id: str, *, fail: bool) -> None:
        with contextlib.suppress(RuntimeError):
            async with db.transaction() as session:
                assert await ledger.mark_handled(session, event_id, "!r:x")
                first_holds.set()
                await first_may_end.wait()
                if fail:
                    raise RuntimeError("the handler failed: its turn is rolled back")

    async def second(event_id: str) -> bool:
        await first_holds.wait()
        async with db.transaction() as session:
            return await ledger.mark_handled(session, event_id, "!r:x")

    for event_id, fail in (("$committed", False), ("$rolled-back", True)):
        first_holds.clear()
        first_may_end.clear()
        task = asyncio.create_task(first(event_id, fail=fail))
        racing = asyncio.create_task(second(event_id))
        await asyncio.sleep(0.2)
        assert not racing.done(), "the copy must wait for the first transaction's outcome"
        first_may_end.set()
        await task
        assert await racing is fail


async def test_old_ledger_rows_are_pruned_recent_ones_kept(db: Database) -> None:
    from datetime import UTC, datetime, timedelta

    from records.models import HandledEvent

    now = datetime(2026, 11, 25, tzinfo=UTC)
    async with db.transaction() as session:
        session.add(HandledEvent(event_id="$old", room_id="!r:x", handled_at=now - timedelta(days=31)))
        session.add(HandledEvent(event_id="$new", room_id="!r:x", handled_at=now - timedelta(days=1)))
    async with db.transaction() as session:
        assert await ledger.prune(session, now) == 1
    async with db.transaction() as session:
        assert not await ledger.already_handled(session, "$old")
        assert await ledger.already_handled(session, "$new")
