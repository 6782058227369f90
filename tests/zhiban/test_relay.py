"""The outbox relay sends what others wrote as soon as it is woken, not on its next poll,
even when the wake-up arrives while it is reading the table; it never gives a message up
because the homeserver is away, and what it does give up is reported."""

from __future__ import annotations

import asyncio
import json
import logging
from types import SimpleNamespace
from typing import Any

import pytest
from prometheus_client import REGISTRY

from bot.errors import MatrixError
from records import outbox
from records.db import Database
from records.models import OutboxMessage
from zhiban import relay as relay_module
from zhiban.relay import OutboxRelay


def _is_introduction(content: dict[str, Any]) -> bool:
    """The bot's introduction before the first DM it delivers to someone (notifications.welcome)."""
    return str(content.get("body", "")).startswith("您好，我是值班助手")


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

    async def slow_first_read(session: Any, limit: int = 50) -> Any:
        rows = await real_pending(session, limit)
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
    clock = Ticker()
    await _drain(OutboxRelay(db, client, monotonic=clock), clock)  # type: ignore[arg-type]
    first, second = client.sent
    # The same transaction id: the homeserver keeps one event, and it has the real link.
    assert first[2] == second[2] and LINK in first[1]["body"] and LINK in second[1]["body"]
    stored = await _stored(db, row_id)
    assert stored.sent_at is not None and LINK not in json.dumps(stored.content)


async def test_a_message_that_fails_for_good_forgets_its_secret(db: Database) -> None:
    row_id = await _queue_secret(db)
    client = FlakyClient(99, _refusal(403, "M_FORBIDDEN"))
    clock = Ticker()
    await _drain(OutboxRelay(db, client, monotonic=clock), clock)  # type: ignore[arg-type]
    stored = await _stored(db, row_id)
    assert stored.failed and stored.sent_at is None and LINK not in json.dumps(stored.content)


# The homeserver away, or saying no.


class Ticker:
    """The relay's clock for "try again at": moved by the test, so no test waits for real."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _drain(relay: OutboxRelay, clock: Ticker, passes: int = 50) -> list[float]:
    """Run passes, moving the clock on to each retry; the pauses the relay asked for."""
    pauses: list[float] = []
    for _ in range(passes):
        await relay.relay_once()
        pause = relay.next_retry_in()
        if pause is None:
            async with relay.db.reading() as session:
                if not await outbox.pending(session):
                    break
            continue  # rows it wrote itself (failure notices), or sent ones to mark
        pauses.append(pause)
        clock.now += pause
    return pauses


def _refusal(status: int, errcode: str) -> MatrixError:
    return MatrixError(
        SimpleNamespace(status_code=errcode, message="no", transport_response=SimpleNamespace(status=status))
    )


def _metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


class OutageClient(RecordingClient):
    """A homeserver that answers nothing for some rooms (or all) until told otherwise."""

    def __init__(self, error: Exception | None = None) -> None:
        super().__init__()
        self.down: set[str] = set()
        self.all_down = False
        self.error = error or ConnectionError("connection refused")
        self.attempts: dict[str, int] = {}
        self.user_id = "@zhiban:example.org"

    async def dm_room(self, user_id: str) -> str:
        return f"!dm-{user_id.lstrip('@')}"

    async def send_event(self, room_id: str, event_type: str, content: dict[str, Any], *, txn_id: str) -> str:
        self.attempts[room_id] = self.attempts.get(room_id, 0) + 1
        if self.all_down or room_id in self.down:
            raise self.error
        return await super().send_event(room_id, event_type, content, txn_id=txn_id)


async def _queue_in(db: Database, room: str, body: str, **options: Any) -> int:
    async with db.transaction() as session:
        return (await outbox.enqueue(session, outbox.text_content(body), room_id=room, **options)).id


async def test_a_message_waits_out_a_long_outage_and_is_sent_once_the_homeserver_is_back(db: Database) -> None:
    row_id = await _queue_in(db, "!room:example.org", "首报提醒")
    client = OutageClient()
    client.all_down = True
    clock = Ticker()
    relay = OutboxRelay(db, client, monotonic=clock)  # type: ignore[arg-type]
    retries_before = _metric("zhiban_outbox_retries_total", cause="unreachable")

    pauses = await _drain(relay, clock, passes=20)  # far more than the six tries it used to get
    stored = await _stored(db, row_id)
    assert not stored.failed and stored.sent_at is None, "still waiting, not given up"
    assert stored.attempts == 20 and sum(pauses) > 70, "tried all through a 70 s outage"
    assert max(pauses) <= relay_module.RETRY_MAX, "tried again every few seconds"
    assert _metric("zhiban_outbox_retries_total", cause="unreachable") == retries_before + 20

    client.all_down = False
    await _drain(relay, clock)
    assert [content["body"] for _, content, _ in client.sent] == ["首报提醒"]
    assert (await _stored(db, row_id)).sent_at is not None


async def test_a_room_that_waits_does_not_hold_up_the_others(db: Database) -> None:
    client = OutageClient()
    client.down.add("!flooded:example.org")
    clock = Ticker()
    relay = OutboxRelay(db, client, poll_interval=3600, monotonic=clock)  # type: ignore[arg-type]
    await _queue_in(db, "!flooded:example.org", "first, stuck")
    await _queue_in(db, "!flooded:example.org", "second, behind it")
    await _queue_in(db, "!ok:example.org", "one")
    await relay.relay_once()
    await _queue_in(db, "!ok:example.org", "two")
    relay.wake()
    await relay.relay_once()  # before the stuck room's retry is due
    assert [content["body"] for _, content, _ in client.sent] == ["one", "two"]
    assert client.attempts["!flooded:example.org"] == 1, "not hammered, not sent out of order"

    client.down.clear()
    await _drain(relay, clock)
    bodies = [content["body"] for room, content, _ in client.sent if room == "!flooded:example.org"]
    assert bodies == ["first, stuck", "second, behind it"]


async def test_after_an_outage_urgent_rooms_go_first_and_each_room_keeps_its_order(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(relay_module, "CONCURRENCY", 1)  # one at a time: the order is observable
    client = OutageClient()
    for n in range(4):
        await _queue_in(db, f"!office{n}:example.org", f"routine {n}")
    await _queue_in(db, "!office0:example.org", "urgent behind routine 0", priority=outbox.URGENT)
    await _queue_in(db, "!incident:example.org", "alert", priority=outbox.URGENT)
    await OutboxRelay(db, client).relay_once()  # type: ignore[arg-type]
    bodies = [content["body"] for _, content, _ in client.sent]
    assert bodies[0] == "alert"
    assert bodies.index("routine 0") < bodies.index("urgent behind routine 0")
    assert sorted(bodies) == sorted(["alert", "urgent behind routine 0"] + [f"routine {n}" for n in range(4)])


DUTY = "!duty:example.org"


async def test_a_refused_message_is_given_up_and_reported_once_to_the_duty_room_and_its_cause(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    client = OutageClient(_refusal(403, "M_FORBIDDEN"))
    client.down.add("!kicked:example.org")
    row_id = await _queue_in(db, "!kicked:example.org", "会议改到三楼", caused_by="@alice:example.org")
    clock = Ticker()
    settings = SimpleNamespace(duty_room=DUTY, default_lang="zh")
    relay = OutboxRelay(db, client, settings=settings, monotonic=clock)  # type: ignore[arg-type]
    failed_before = _metric("zhiban_outbox_failed_total", cause="forbidden")

    with caplog.at_level(logging.WARNING, logger="zhiban.relay"):
        pauses = await _drain(relay, clock)
    stored = await _stored(db, row_id)
    assert stored.failed and client.attempts["!kicked:example.org"] == 1 + len(relay_module.REFUSAL_RETRIES)
    assert min(pauses) >= 10, "a refusal is tried again, but not every few seconds"
    assert _metric("zhiban_outbox_failed_total", cause="forbidden") == failed_before + 1
    assert any(r.levelno == logging.ERROR and str(row_id) in r.getMessage() for r in caplog.records)

    notices = {room: content["body"] for room, content, _ in client.sent}
    assert set(notices) == {DUTY, "!dm-alice:example.org"}
    assert "会议改到三楼" in notices[DUTY] and "!kicked:example.org" in notices[DUTY]
    assert "无法送达" in notices[DUTY] and "could not be delivered" in notices[DUTY], "both languages"
    assert "会议改到三楼" in notices["!dm-alice:example.org"]
    await _drain(relay, clock)
    # The causer's DM is the first the bot sends them: the bot's introduction comes before it.
    intros = [room for room, content, _ in client.sent if _is_introduction(content)]
    assert intros == ["!dm-alice:example.org"]
    assert len(client.sent) - len(intros) == 2, "reported once"


async def test_a_failure_notice_that_fails_is_not_reported_again(db: Database) -> None:
    client = OutageClient(_refusal(404, "M_NOT_FOUND"))
    client.all_down = True  # the duty room and Alice's DM refuse too
    await _queue_in(db, "!gone:example.org", "hello", caused_by="@alice:example.org")
    clock = Ticker()
    settings = SimpleNamespace(duty_room=DUTY, default_lang="en")
    relay = OutboxRelay(db, client, settings=settings, monotonic=clock)  # type: ignore[arg-type]
    failed_before = _metric("zhiban_outbox_failed_total", cause="not_found")
    await _drain(relay, clock, passes=100)
    async with db.reading() as session:
        rows = list(await session.scalars(outbox.select(OutboxMessage).order_by(OutboxMessage.id)))
    assert len(rows) == 3 and all(row.failed for row in rows), "the message and its two notices, no more"
    assert _metric("zhiban_outbox_failed_total", cause="not_found") == failed_before + 3


async def test_a_refusal_that_mends_is_sent_after_all(db: Database) -> None:
    client = OutageClient(_refusal(403, "M_FORBIDDEN"))
    client.down.add("!invited:example.org")
    row_id = await _queue_in(db, "!invited:example.org", "welcome")
    clock = Ticker()
    relay = OutboxRelay(db, client, monotonic=clock)  # type: ignore[arg-type]
    await relay.relay_once()
    client.down.clear()  # the bot joined meanwhile
    await _drain(relay, clock)
    assert (await _stored(db, row_id)).sent_at is not None
    assert [content["body"] for _, content, _ in client.sent] == ["welcome"]


async def test_once_the_homeserver_answers_again_every_waiting_room_is_tried_at_once(db: Database) -> None:
    client = OutageClient()
    client.all_down = True
    clock = Ticker()
    relay = OutboxRelay(db, client, poll_interval=3600, monotonic=clock)  # type: ignore[arg-type]
    await _queue_in(db, "!early:example.org", "queued early in the outage")
    for tries in range(1, 6):  # it has failed for a while: its next try is at the longest pause
        await relay.relay_once()
        if tries < 5:
            clock.now += relay.next_retry_in() or 0.0
    assert relay.next_retry_in() == relay_module.RETRY_MAX
    await _queue_in(db, "!late:example.org", "queued just now")
    relay.wake()
    await relay.relay_once()  # the early room is not due; the late one fails once, briefly
    assert client.attempts == {"!early:example.org": 5, "!late:example.org": 1}

    client.all_down = False
    clock.now += relay.next_retry_in() or 0.0  # the late room's short pause, not the early one's
    await relay.relay_once()
    await relay.relay_once()
    bodies = [content["body"] for _, content, _ in client.sent]
    assert sorted(bodies) == ["queued early in the outage", "queued just now"]


class RoomNio:
    """The room calls of a homeserver: rooms it made keep their state; an answer can be lost."""

    def __init__(self) -> None:
        self.made: dict[str, dict[str, Any]] = {}
        self.lose_next_answer = False
        self.refuse = False
        self.state: list[tuple[str, str, dict[str, Any]]] = []

    async def room_create(self, **kwargs: Any) -> Any:
        if self.refuse:
            raise _refusal(403, "M_FORBIDDEN")
        room_id = f"!made{len(self.made) + 1}:example.org"
        self.made[room_id] = {item["type"]: item["content"] for item in kwargs["initial_state"]} | {"args": kwargs}
        if self.lose_next_answer:  # made, but the bot never hears so (killed, timed out)
            self.lose_next_answer = False
            raise ConnectionError("connection reset")
        return SimpleNamespace(room_id=room_id)

    async def joined_rooms(self) -> Any:
        return SimpleNamespace(rooms=[*self.made, "!other:example.org"])

    async def room_get_state_event(self, room_id: str, event_type: str) -> Any:
        return SimpleNamespace(content=self.made.get(room_id, {}).get(event_type, {}))

    async def room_put_state(self, room_id: str, event_type: str, content: dict[str, Any]) -> Any:
        self.state.append((room_id, event_type, content))
        return SimpleNamespace(event_id=f"$state{len(self.state)}")


class RoomClient(OutageClient):
    def __init__(self) -> None:
        super().__init__()
        self.nio = RoomNio()


async def _queue_room_with_followers(db: Database) -> tuple[int, int, int]:
    """A room to create, its card and pin, and a DM that links to it: (action, card, dm) ids."""
    async with db.transaction() as session:
        action = await outbox.enqueue_room(
            session, ref="test-room:1", name="E1 Ⅱ级 内涝", topic="t", invite=["@a:example.org"], moderators=[]
        )
        card = await outbox.enqueue(session, outbox.text_content("card"), room_ref=action.id, ref="card:E1")
        await outbox.enqueue(
            session, {"pinned": []}, room_ref=action.id, event_type="m.room.pinned_events",
            relates_to_outbox_id=card.id, relation=outbox.PIN,
        )  # fmt: skip
        dm = await outbox.enqueue(
            session, outbox.text_content(f"join {outbox.ROOM_LINK}"), to_user="@a:example.org", room_ref=action.id
        )
        return action.id, card.id, dm.id


async def test_a_room_made_before_the_bot_heard_so_is_found_again_not_made_twice(db: Database) -> None:
    client = RoomClient()
    client.nio.lose_next_answer = True
    action_id, card_id, dm_id = await _queue_room_with_followers(db)
    clock = Ticker()
    first = OutboxRelay(db, client, monotonic=clock)  # type: ignore[arg-type]
    await first.relay_once()
    assert len(client.nio.made) == 1 and not client.sent  # made; nothing waiting for it went out
    # A new process (the old one was killed): it knows nothing but the table.
    await _drain(OutboxRelay(db, client, monotonic=clock), clock)  # type: ignore[arg-type]

    assert list(client.nio.made) == ["!made1:example.org"]
    room = "!made1:example.org"
    assert (await _stored(db, action_id)).room_id == room
    card = await _stored(db, card_id)
    assert card.room_id == room and card.event_id
    assert (room, "m.room.pinned_events", {"pinned": [card.event_id]}) in client.nio.state
    dm = await _stored(db, dm_id)
    assert dm.sent_at is not None
    body = next(
        content["body"]
        for target, content, _ in client.sent
        if target == "!dm-a:example.org" and not _is_introduction(content)
    )
    assert "https://matrix.to/#/!made1:example.org?via=example.org" in body, body


async def test_rows_waiting_for_a_room_that_cannot_be_made_are_dropped_and_the_room_reported(db: Database) -> None:
    client = RoomClient()
    client.nio.refuse = True
    action_id, card_id, dm_id = await _queue_room_with_followers(db)
    clock = Ticker()
    await _drain(OutboxRelay(db, client, monotonic=clock), clock)  # type: ignore[arg-type]

    assert not client.nio.made
    assert (await _stored(db, action_id)).failed
    assert (await _stored(db, card_id)).failed and (await _stored(db, dm_id)).failed
    # Nothing reached anyone: the waiting rows are not reported one by one either.
    assert not [content for _, content, _ in client.sent if "join" in str(content.get("body"))]


class IntroFailsClient(OutageClient):
    """A homeserver that refuses (or never answers) the bot's introduction, and takes the rest."""

    def __init__(self, how: str) -> None:
        super().__init__()
        self.how = how
        self.intro_tries = 0

    async def send_event(self, room_id: str, event_type: str, content: dict[str, Any], *, txn_id: str) -> str:
        if _is_introduction(content) and self.how != "ok":
            self.intro_tries += 1
            if self.how == "hang":
                await asyncio.Event().wait()
            raise _refusal(400, "M_UNKNOWN")
        return await super().send_event(room_id, event_type, content, txn_id=txn_id)


@pytest.mark.parametrize("how", ["refused", "hang"])
async def test_a_failed_introduction_neither_holds_back_nor_drops_an_urgent_first_dm(
    db: Database, how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(relay_module, "INTRODUCTION_SECONDS", 0.2)
    client = IntroFailsClient(how)
    clock = Ticker()
    relay = OutboxRelay(db, client, settings=SimpleNamespace(default_lang="zh"), monotonic=clock)  # type: ignore[arg-type]
    async with db.transaction() as session:
        first = await outbox.enqueue(
            session, outbox.text_content("🚨 启动Ⅱ级响应，立即到岗"), to_user="@li:example.org", priority=outbox.URGENT
        )
    await relay.relay_once()  # one pass: no waiting for a retry
    assert [content["body"] for _, content, _ in client.sent] == ["🚨 启动Ⅱ级响应，立即到岗"]
    assert (await _stored(db, first.id)).sent_at is not None and client.intro_tries == 1
    # The introduction is tried again before the next DM, and then comes first.
    client.how = "ok"
    async with db.transaction() as session:
        await outbox.enqueue(session, outbox.text_content("会议改到三楼"), to_user="@li:example.org")
    relay.wake()
    await _drain(relay, clock)
    bodies = [content["body"] for _, content, _ in client.sent]
    assert len(bodies) == 3 and _is_introduction({"body": bodies[1]}) and bodies[2] == "会议改到三楼"
