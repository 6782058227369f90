"""The relay performs outbox actions (records.outbox_actions) in their room's lane.

An action is tried again, like a send, while the homeserver answers nothing; the rows that wait
for it go out only once it is done, once; a refused action ends with its own answer and the
rows that waited for it are withdrawn, unsent and unreported. Other rooms are never held up.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from records import outbox, outbox_actions
from records.db import Database
from records.models import OutboxMessage
from tests.zhiban.test_relay import OutageClient, Ticker, _drain, _stored
from zhiban.relay import OutboxRelay

ROOM = "!voice:example.org"
OTHER = "!other:example.org"
KIND = "test.fetch"


class Performer:
    """Fails with a refused connection ``failures`` times, then does its work (a row written in
    the transaction that ends the action), or refuses it for good."""

    def __init__(self, failures: int = 0, *, refuse: bool = False) -> None:
        self.failures, self.refuse = failures, refuse
        self.calls = 0

    async def __call__(self, client: Any, payload: dict[str, Any]) -> outbox_actions.Outcome:
        self.calls += 1
        if self.failures:
            self.failures -= 1
            raise ConnectionError("connection refused")
        body = f"refused {payload['n']}" if self.refuse else f"stored {payload['n']}"

        async def record(session: Any) -> None:
            await outbox.enqueue(session, outbox.text_content(body), room_id=ROOM)

        return outbox_actions.Outcome(record, refused="gone" if self.refuse else None)


@pytest.fixture
def performer() -> Iterator[Performer]:
    fake = Performer()
    outbox_actions.register(KIND, fake)
    yield fake
    outbox_actions._performers.pop(KIND, None)


async def _queue(db: Database) -> tuple[int, int, int]:
    """An action, the ⏳ that waits for it, and a later message in the same room."""
    async with db.transaction() as session:
        action = await outbox_actions.enqueue_action(session, KIND, {"n": 1}, room_id=ROOM)
        wait = await outbox.enqueue(session, outbox.text_content("⏳"), room_id=ROOM)
        await outbox_actions.wait_for(session, wait.id, action)
        later = await outbox.enqueue(session, outbox.text_content("later"), room_id=ROOM)
        await outbox.enqueue(session, outbox.text_content("elsewhere"), room_id=OTHER)
        return action.id, wait.id, later.id


def _bodies(client: OutageClient, room: str) -> list[str]:
    return [content["body"] for target, content, _ in client.sent if target == room]


async def test_an_action_is_tried_again_while_nothing_answers_and_what_waits_for_it_goes_once(
    db: Database, performer: Performer
) -> None:
    performer.failures = 3
    action_id, wait_id, _ = await _queue(db)
    client = OutageClient()
    clock = Ticker()
    relay = OutboxRelay(db, client, monotonic=clock)  # type: ignore[arg-type]

    await relay.relay_once()
    assert _bodies(client, OTHER) == ["elsewhere"]  # another room is not held up
    assert _bodies(client, ROOM) == []  # the ⏳ and the later message wait behind the action
    await _drain(relay, clock)

    assert performer.calls == 4
    # In order: what the action wrote is newer than the rows queued behind it.
    assert _bodies(client, ROOM) == ["⏳", "later", "stored 1"]
    action = await _stored(db, action_id)
    assert action.sent_at is not None and not action.failed and action.attempts == 4
    assert (await _stored(db, wait_id)).sent_at is not None
    # A new relay (a restart) finds nothing left to do: the action is never performed twice.
    await _drain(OutboxRelay(db, client, monotonic=clock), clock)  # type: ignore[arg-type]
    assert performer.calls == 4 and _bodies(client, ROOM) == ["⏳", "later", "stored 1"]


async def test_a_refused_action_withdraws_what_waited_for_it_and_says_why(db: Database, performer: Performer) -> None:
    performer.refuse = True
    action_id, wait_id, _ = await _queue(db)
    client = OutageClient()
    clock = Ticker()
    await _drain(OutboxRelay(db, client, monotonic=clock), clock)  # type: ignore[arg-type]

    assert _bodies(client, ROOM) == ["later", "refused 1"]
    action, wait = await _stored(db, action_id), await _stored(db, wait_id)
    assert action.failed and action.last_error == "gone"
    assert wait.failed and wait.sent_at is None
    async with db.reading() as session:
        notices = await session.scalars(select(OutboxMessage).where(OutboxMessage.ref.like("outbox.failed:%")))
        assert list(notices) == []  # not reported as a failure: the action answered itself


async def test_an_action_nobody_performs_is_given_up_not_retried_forever(db: Database) -> None:
    async with db.transaction() as session:
        action = await outbox_actions.enqueue_action(session, "no.such.kind", {}, room_id=ROOM)
        await outbox.enqueue(session, outbox.text_content("after it"), room_id=ROOM)
    client = OutageClient()
    clock = Ticker()
    await _drain(OutboxRelay(db, client, monotonic=clock), clock)  # type: ignore[arg-type]
    assert (await _stored(db, action.id)).failed
    assert _bodies(client, ROOM) == ["after it"]  # the room's lane goes on
