"""The outbox relay: sends queued events to Matrix, each exactly once.

The outbox row's id, with a per-database nonce, is the Matrix transaction id, so a resend
after a crash between "sent" and "marked sent" is deduplicated by the homeserver.

Order is kept per *lane*: one lane per room, and one per person for direct messages (rows
addressed `to_user` and rows in that person's known DM room share it). Lanes are sent
concurrently, a few at a time, because an incident alert DMs a hundred people and each new
DM room is one room creation at the homeserver (~0.1 s each, bench.incident_fanout): one by
one, they alone took over 10 s.

Nothing is given up because the homeserver is away. While it answers nothing (a refused
connection, a timeout, a 5xx, a 429) a lane's head row is tried again every few seconds for
as long as it takes, so what came due during an outage goes out within seconds of its return
(bench.relay_recovery). A lane that waits only notes when to try next: no send holds a slot or
the pass while it waits, so the other lanes keep flowing. Only a refusal (forbidden, no such
room) is given up, after a few tries far apart; that is logged as an error, counted, and
reported to the duty room and to the person who caused the message. After an outage, lanes
whose next row is urgent (alerts, orders, nags) are served first.

A row may be an action rather than an event: creating a room (the incident room, see
`outbox.enqueue_room`). The room carries the action's creation id in its state, and the row
counts an attempt *before* each create call; so a row that was tried before (a crash between
"created" and "marked done", a lost answer) first looks among the bot's rooms for the one it
made, and a room is created once. Rows that belong in that room, or link to it, name the action
in `room_ref` and wait for it like an edit waits for its target's event id.

Edits of one message coalesce: an m.replace carries the whole new content, so of the edits of a
message waiting in a lane only the newest is sent, and the older are marked done unsent
(`last_error` says which row replaced them). Two hundred responders acknowledging an order each
redraw its card; the homeserver gets one or a few edits, the last showing them all.

Other actions (`records.outbox_actions`, e.g. fetching a voice message's audio) are performed by
what their feature registered, and ended in one transaction with what they produced; rows name
them in `room_ref` the same way, and are withdrawn if the action is refused.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from prometheus_client import Counter
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

import emergency.incidents  # noqa: F401  (registers where an incident room's id is recorded)
from bot.client import BotClient
from bot.errors import MatrixError, check
from emergency import outreach, room_admin
from notifications import reach, welcome
from records import audit, kv, outbox, outbox_actions, people
from records.clock import SystemClock
from records.db import Database
from records.models import OutboxMessage
from zhiban import backlog
from zhiban.texts import tr
from zhiban.wakeup import TIMERS

log = logging.getLogger(__name__)

# Requests in flight at once across lanes; Synapse on two cores gains little beyond this.
CONCURRENCY = 8
# Rows read per pass. A page is a prefix of the pending rows by id, so every lane in it is
# complete up to its last row; urgent lanes go first only among the rows read.
PAGE = 200
# While the homeserver answers nothing: 0.5 s, 1 s, 2 s, 4 s, then every 5 s until it is back.
RETRY_FIRST = 0.5
RETRY_MAX = 5.0
# A 429's retry-after is honoured, up to this.
RATE_LIMIT_MAX = 60.0
# A refusal may be temporary (an invite not yet accepted, a room being repaired): the row is
# tried again after each of these pauses, and given up at the next refusal.
REFUSAL_RETRIES = (10.0, 30.0)
# Refusals that no retry can mend: the event itself is rejected.
INVALID_CODES = ("M_BAD_JSON", "M_NOT_JSON", "M_TOO_LARGE")
EXCERPT_CHARS = 80
# The longest the bot's introduction may hold up the first DM it precedes (an alert, an order).
INTRODUCTION_SECONDS = 5.0

RETRIES = Counter("zhiban_outbox_retries", "Outbox sends that failed and will be tried again, by cause", ["cause"])
FAILED = Counter("zhiban_outbox_failed", "Outbox messages given up for good (and reported), by cause", ["cause"])
SENT = Counter("zhiban_outbox_sent", "Outbox rows sent to Matrix, by kind", ["kind"])
SUPERSEDED = Counter(
    "zhiban_outbox_superseded", "Edits not sent because a newer edit of the same message replaced them"
)
# `last_error` of an edit that was not sent because a newer one replaced it, then that row's id.
SUPERSEDED_BY = "superseded by outbox "


@dataclass
class _Tries:
    """One row's failed attempts in this process, forgotten once it is sent or given up."""

    failures: int = 0  # the homeserver answered nothing useful
    refusals: int = 0  # the homeserver said no


class OutboxRelay:
    def __init__(
        self,
        db: Database,
        client: BotClient,
        *,
        poll_interval: float = 1.0,
        settings: Any = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.client = client
        self.poll_interval = poll_interval
        # For the duty room and the default language of failure notices; by default the
        # settings the bot's dispatcher was built with.
        self._settings = settings
        self._monotonic = monotonic
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._nonce = ""
        self.sent_count = 0
        # Rows just committed by this process's handlers. While nothing else may have written to
        # the table since the relay last read it, it sends them without reading back.
        self._fresh: list[OutboxMessage] = []
        # Set by anything that may have put rows in the table unseen (a worker's wake-up, a send
        # to retry, a full page); cleared just *before* a read, so a wake-up that arrives while
        # the table is being read is never lost.
        self._must_read = True
        self._last_read = float("-inf")
        # Lane -> when its head row is tried again (self._monotonic time). The lane's rows are
        # left alone until then; the run loop wakes for the earliest.
        self._due: dict[str, float] = {}
        self._tries: dict[int, _Tries] = {}
        # Lanes that wait because the homeserver answered nothing. The first of those rows
        # that goes through again lets them all go at once, instead of each at its own next
        # attempt (up to RETRY_MAX later), and cuts the pass short so that they join the next.
        self._unreachable: set[str] = set()
        self._regroup = False
        # CREATE_ROOM row id -> the room it made (an action row's: its room, once it is done),
        # as learnt in this process.
        self._made: dict[int, str] = {}
        # People whose DM room has had the bot's introduction (notifications.welcome).
        self._introduced: set[str] = set()
        self._sampled_at = float("-inf")  # when the backlog figures were last read (metrics)
        # Edited message's outbox id -> the newest edit of it this process sent (see _coalesce).
        self._edited: dict[int, int] = {}
        # This pass's edits about to go -> the waiting older edits of the same message they replace.
        self._replaces: dict[int, list[int]] = {}

    def wake(self, committed: list[OutboxMessage] | None = None) -> None:
        """Send soon. With ``committed`` rows (this process's handlers) they are sent as given;
        without (a worker's Redis wake-up, a job's commit) the table holds rows this process
        has not seen, so the next pass reads it instead of waiting for the poll interval."""
        if committed:
            self._fresh.extend(committed)
        else:
            self._must_read = True
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def next_retry_in(self) -> float | None:
        """Seconds until the earliest lane that waits is tried again; None when none waits."""
        if not self._due:
            return None
        return max(0.0, min(self._due.values()) - self._monotonic())

    async def _sample_backlog(self) -> None:
        """Read the backlog figures for Prometheus, at most every few seconds (zhiban.backlog)."""
        now = self._monotonic()
        if now - self._sampled_at < backlog.SAMPLE_SECONDS:
            return
        self._sampled_at = now
        try:
            await backlog.sample_outbox(self.db, SystemClock())
        except Exception as exc:  # a figure, never a reason to stop sending
            log.debug("outbox backlog not sampled: %s", exc)

    async def _txn_nonce(self) -> str:
        if not self._nonce:
            async with self.db.transaction() as session:
                nonce = await kv.get(session, "outbox.nonce")
                if nonce is None:
                    nonce = secrets.token_hex(4)
                    await kv.put(session, "outbox.nonce", nonce)
            self._nonce = nonce
        return self._nonce

    async def run(self) -> None:
        outbox.on_new_messages(self.wake)
        while not self._stop.is_set():
            self._wake.clear()
            try:
                busy = await self.relay_once()
            except Exception:
                log.exception("outbox relay failed; retrying")
                busy = False
            await self._sample_backlog()
            if busy:
                continue
            timeout = self.poll_interval
            retry_in = self.next_retry_in()
            if retry_in is not None:
                timeout = min(timeout, retry_in)
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except TimeoutError:
                self._must_read = True  # the periodic look also finds rows written by workers

    async def relay_once(self) -> bool:
        """Send what is pending, in order. True when it sent something (there may be more)."""
        nonce = await self._txn_nonce()
        fresh, self._fresh = self._fresh, []
        self._regroup = False
        now = self._monotonic()
        if now - self._last_read > self.poll_interval or any(due <= now for due in self._due.values()):
            # Rows from workers (and anything not handed over) are found by reading the table,
            # at least once per poll interval however busy the handlers keep us; and a lane
            # whose retry is due needs its head row, which only the table has.
            self._must_read = True
        if not self._must_read:
            rows = fresh
            if not rows:
                return False
        else:
            self._must_read = False
            self._last_read = now
            async with self.db.reading() as session:
                rows = await outbox.pending(session, PAGE)
            self._due = {lane: due for lane, due in self._due.items() if due > now}
        lanes: dict[str, list[OutboxMessage]] = {}
        owners = self.client.dm_owners()
        for row in rows:
            lanes.setdefault(_lane(row, owners, self._made), []).append(row)
        # A lane that waits for its retry keeps all its rows back, fresh ones too (order).
        ready = [(key, lane) for key, lane in lanes.items() if key not in self._due]
        superseded: dict[int, int] = {}
        ready = [(key, kept) for key, lane in ready if (kept := self._coalesce(lane, superseded))]
        # Edits replaced by one already sent are done now; those replaced by one about to go stay
        # pending until it is sent (see _send), so that a newest edit that fails leaves them to go.
        sent = set(self._edited.values())
        self._replaces = _by_value({old: new for old, new in superseded.items() if new not in sent})
        if done := _by_value({old: new for old, new in superseded.items() if new in sent}):
            async with self.db.transaction() as session:
                await self._mark_superseded(session, done)
        # Urgent heads first: the semaphore lets waiting lanes in the order they ask.
        ready.sort(key=lambda item: (-item[1][0].priority, item[1][0].id))
        limit = asyncio.Semaphore(CONCURRENCY)
        results = await asyncio.gather(*(self._send_lane(key, lane, nonce, limit) for key, lane in ready))
        sent_any = any(results)
        if rows is not fresh and len(rows) == PAGE:
            self._must_read = True  # a full page: there may be more waiting
        return sent_any

    def _coalesce(self, lane: list[OutboxMessage], superseded: dict[int, int]) -> list[OutboxMessage]:
        """The lane without the edits a newer edit of the same message replaces.

        An m.replace carries the message's whole new content, so when several edits of one
        message wait (200 responders acknowledging an order each redraw its card), only the
        newest need go: the others are noted in `superseded` (row id -> the newer row's id).
        An edit older than one this process already sent is superseded too, so that a card
        never goes back to an earlier state."""
        newest: dict[int, int] = {}
        for row in lane:
            if _replaceable(row):
                target = row.relates_to_outbox_id or 0
                newest[target] = max(newest.get(target, 0), row.id, self._edited.get(target, 0))
        if not newest:
            return lane
        kept: list[OutboxMessage] = []
        for row in lane:
            latest = newest.get(row.relates_to_outbox_id or 0, 0) if _replaceable(row) else 0
            if row.id < latest:
                superseded[row.id] = latest
            else:
                kept.append(row)
        return kept

    async def _mark_superseded(self, session: AsyncSession, replaced: dict[int, list[int]]) -> None:
        """Mark edits replaced by newer ones (newer id -> older ids) as done without sending
        them, in the transaction that records the newer as sent: until then they stay pending,
        so a newer edit that fails for good leaves the next newest to go, and after a crash
        before that commit all are still pending and coalesce again. They keep no event id
        (nothing names them) and say what replaced them."""
        for newer, older in replaced.items():
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(older), OutboxMessage.sent_at.is_(None))
                .values(sent_at=SystemClock().now(), last_error=f"{SUPERSEDED_BY}{newer}")
            )
            for row_id in older:
                self._tries.pop(row_id, None)
            SUPERSEDED.inc(len(older))
            log.debug("outbox: %d edits superseded by outbox %d", len(older), newer)

    async def _send_lane(self, key: str, lane: list[OutboxMessage], nonce: str, limit: asyncio.Semaphore) -> bool:
        """Send one lane's rows in order; True when something was sent."""
        sent_any = False
        for position, row in enumerate(lane):
            if position and self._regroup:
                self._must_read = True
                break  # the homeserver is back: the rest of this lane goes with everyone's next pass
            async with limit:
                outcome = await self._send(row, key, nonce)
            if outcome != "sent":
                self._must_read = True
            if outcome in ("retry", "blocked"):
                break  # keep the order: later rows of this lane wait for this one
            sent_any = sent_any or outcome == "sent"
        return sent_any

    async def _send(self, row: OutboxMessage, key: str, nonce: str) -> str:
        if row.event_type == outbox_actions.ACTION:
            return await self._perform(row, key)
        try:
            made: str | None = None
            if row.room_ref is not None:
                made, made_failed = await self._made_room(row.room_ref)
                if made_failed:
                    await self._give_up(row, "its room was never created", cause="orphan", report=False)
                    return "failed"
                if made is None:
                    return "blocked"  # the room comes first; its action is in another lane or pass
            content: dict[str, Any] = outbox.sendable(row.content)
            if made is not None:
                content = outbox.fill_room(content, made, outreach.room_link(made))
            if row.event_type == outbox.CREATE_ROOM:
                room_id = await self._create_room(row)
                self._made[row.id] = room_id
            elif row.room_id or row.to_user:
                room_id = row.room_id or await self.client.dm_room(row.to_user or "")
                if row.to_user:
                    await self._introduce(row.to_user, room_id, nonce)
            else:
                room_id = made or ""
            if row.relates_to_outbox_id is not None:
                target, target_failed = await self._target_event(row.relates_to_outbox_id)
                if target_failed:
                    # An edit of (or reaction to) a card that could never be sent cannot be sent
                    # either; the card's own failure was reported, this one would be noise.
                    await self._give_up(row, "its target was never sent", cause="orphan", report=False)
                    return "failed"
                if target is None:
                    return "wait"
                if row.relation == outbox.PIN:
                    content = {"pinned": [target]}
                else:
                    relation = dict(content.get("m.relates_to") or {})
                    relation.update({"rel_type": row.relation, "event_id": target})
                    content["m.relates_to"] = relation
            txn_id = f"zb{nonce}-{row.id}"
            if row.event_type == outbox.CREATE_ROOM:
                event_id = None
            elif row.event_type in outbox.STATE_EVENTS:
                # A state event replaces itself: sending it twice after a crash changes nothing.
                event_id = str(check(await self.client.nio.room_put_state(room_id, row.event_type, content)).event_id)
            elif row.event_type == "m.room.redaction":
                await self.client.redact(room_id, content["redacts"], content.get("reason"))
                event_id = None
            else:
                event_id = await self.client.send_event(room_id, row.event_type, content, txn_id=txn_id)
        except Exception as exc:  # every failure is sorted by _classify
            return await self._not_sent(row, key, exc)
        async with self.db.transaction() as session:
            fresh = await session.get(OutboxMessage, row.id)
            if fresh is not None:
                fresh.sent_at = SystemClock().now()
                fresh.event_id = event_id
                fresh.room_id = room_id
                fresh.attempts += 1
                _forget_secrets(fresh)
                if row.event_type == outbox.CREATE_ROOM:
                    await outbox.room_made(session, fresh, room_id)
            if replaced := self._replaces.pop(row.id, None):
                await self._mark_superseded(session, {row.id: replaced})
        if _replaceable(row):
            edited = row.relates_to_outbox_id or 0
            self._edited[edited] = max(self._edited.get(edited, 0), row.id)
        tries = self._went_through(row)
        kind = _kind(row)
        SENT.labels(kind).inc()
        log.info(
            "outbox %s sent: %s to %s%s",
            row.id,
            kind,
            room_id,
            f" after {tries.failures + tries.refusals} failed attempts" if tries is not None else "",
            extra={"outbox_row": row.id, "kind": kind, "room": room_id, "ref": row.ref},
        )
        self.sent_count += 1
        return "sent"

    async def _introduce(self, user_id: str, room_id: str, nonce: str) -> None:
        """Before the first message the bot delivers into a person's DM room, ever: who Zhiban
        is and how to get help (notifications.welcome). Best effort: the message it precedes
        may be an alert, so an introduction that fails or is slow is skipped (logged, not marked
        as done) and tried again before the person's next DM; the message goes out regardless."""
        if user_id in self._introduced:
            return
        try:
            async with asyncio.timeout(INTRODUCTION_SECONDS):
                await self._send_introduction(user_id, room_id, nonce)
        except Exception as exc:  # the homeserver refused or did not answer in time
            log.warning("introduction to %s not sent, tried again before their next DM: %r", user_id, exc)

    async def _send_introduction(self, user_id: str, room_id: str, nonce: str) -> None:
        async with self.db.transaction() as session:
            if await welcome.introduced(session, user_id):
                self._introduced.add(user_id)
                return
            default = getattr(self._settings_now(), "default_lang", None) or "zh"
            lang = await reach.language_of(session, user_id, default)
        content = outbox.text_content(welcome.introduction(lang), msgtype="m.notice")
        # One transaction id per person: sent again after a crash, it is the same message.
        person = hashlib.sha256(user_id.encode()).hexdigest()[:16]
        await self.client.send_event(room_id, "m.room.message", content, txn_id=f"zb{nonce}-intro-{person}")
        async with self.db.transaction() as session:
            await welcome.mark_introduced(session, user_id)
        self._introduced.add(user_id)

    async def _perform(self, row: OutboxMessage, key: str) -> str:
        """Carry out an action row (records.outbox_actions): ended in one transaction with what
        it produced, done ("sent") or refused ("failed"), or tried again later like a send."""
        try:
            ended = await outbox_actions.run(self.db, self.client, row)
        except outbox_actions.UnknownAction as exc:
            await self._give_up(row, str(exc), cause="invalid")
            return "failed"
        except Exception as exc:  # the homeserver is away: sorted by _classify, like a send
            return await self._not_sent(row, key, exc)
        self._must_read = True  # what the action wrote (a refusal's answer), and withdrew
        if ended.timers_scheduled:
            await self._wake_workers()
        self._went_through(row)
        if not ended.done:
            return "failed"
        self._made[row.id] = row.room_id or ""  # the rows waiting for it may go
        self.sent_count += 1
        return "sent"

    def _went_through(self, row: OutboxMessage) -> _Tries | None:
        """Forget the row's failed tries (returned); if it had found nobody there, the
        homeserver is back and every lane waiting for it goes now."""
        tries = self._tries.pop(row.id, None)
        if tries is not None and tries.failures and self._unreachable:
            for waiting in self._unreachable:
                self._due.pop(waiting, None)
            self._unreachable.clear()
            self._must_read = self._regroup = True
        return tries

    async def _wake_workers(self) -> None:
        """Tell the workers a timer is due (a fetched voice message's transcription)."""
        dispatcher = getattr(self.client, "dispatcher", None)
        wake_bus = getattr(dispatcher, "context", {}).get("wake_bus")
        if wake_bus is not None:
            await wake_bus.publish(TIMERS)

    async def _made_room(self, action_id: int) -> tuple[str | None, bool]:
        """The room a CREATE_ROOM row made (None while not yet), and whether it failed for good."""
        if action_id in self._made:
            return self._made[action_id], False
        async with self.db.reading() as session:
            action = await session.get(OutboxMessage, action_id)
            if action is None:
                return None, True
            if action.sent_at is not None and action.room_id:
                self._made[action_id] = action.room_id
            return (action.room_id if action.sent_at is not None else None), action.failed

    async def _create_room(self, row: OutboxMessage) -> str:
        """Create the room a CREATE_ROOM row asks for, or find the one an earlier try made."""
        spec = row.content
        creation = str(spec["creation"])
        async with self.db.transaction() as session:
            stored = await session.get(OutboxMessage, row.id)
            tried_before = stored is not None and stored.attempts > 0
            if stored is not None:
                # Counted before the call: if this process dies before the room is marked made,
                # the next try knows to look for it first.
                stored.attempts += 1
        room_id = await self._find_made_room(creation) if tried_before or row.id in self._tries else None
        if room_id is not None:
            log.info("outbox %s: the room %s made by an earlier try is used", row.id, room_id)
        else:
            bot = str(getattr(self.client, "user_id", "") or "")
            response = check(
                await self.client.nio.room_create(
                    name=str(spec.get("name") or ""),
                    topic=str(spec.get("topic") or ""),
                    invite=[u for u in spec.get("invite") or [] if u != bot],
                    initial_state=[{"type": outbox.CREATION_STATE, "state_key": "", "content": {"creation": creation}}],
                )
            )
            room_id = str(response.room_id)
        # Raised after creation (best effort, and only ever raised: safe to repeat), not by an
        # override at creation, which room versions treat differently for the creator.
        await room_admin.make_moderators(self.client, room_id, spec.get("moderators") or [])
        return room_id

    async def _find_made_room(self, creation: str) -> str | None:
        """The bot's joined room whose state carries `creation`, if an earlier try made one."""
        joined = check(await self.client.nio.joined_rooms())
        for room_id in reversed(list(joined.rooms)):
            state = await self.client.nio.room_get_state_event(room_id, outbox.CREATION_STATE)
            if (getattr(state, "content", None) or {}).get("creation") == creation:
                return str(room_id)
        return None

    async def _target_event(self, outbox_id: int) -> tuple[str | None, bool]:
        """The target's event id (None while unsent), and whether it failed for good."""
        async with self.db.reading() as session:
            target = await session.get(OutboxMessage, outbox_id)
            if target is None:
                return None, True
            return target.event_id, target.failed

    async def _not_sent(self, row: OutboxMessage, key: str, exc: Exception) -> str:
        """Note a failed attempt and when to try again ("retry"), or give the row up ("failed")."""
        cause = _classify(exc)
        tries = self._tries.setdefault(row.id, _Tries())
        if cause == "invalid" or (cause == "refused" and tries.refusals >= len(REFUSAL_RETRIES)):
            self._tries.pop(row.id, None)
            await self._give_up(row, str(exc), cause=_refusal_reason(exc))
            return "failed"
        if cause == "refused":
            delay = REFUSAL_RETRIES[tries.refusals]
            tries.refusals += 1
        elif cause == "rate_limited":
            retry_after_ms = getattr(exc, "retry_after_ms", None) or 5000
            delay = min(RATE_LIMIT_MAX, retry_after_ms / 1000)
        else:
            delay = min(RETRY_MAX, RETRY_FIRST * 2**tries.failures)
            tries.failures += 1
        self._due[key] = self._monotonic() + delay
        if cause == "unreachable":  # not a 5xx: that may be this room's trouble alone
            self._unreachable.add(key)
        else:
            self._unreachable.discard(key)
        RETRIES.labels(cause).inc()
        count = tries.failures + tries.refusals
        # The first failure, and then 2, 4, 8… so that a long outage shows without flooding the log.
        level = logging.WARNING if count & (count - 1) == 0 else logging.DEBUG
        log.log(
            level,
            "outbox %s not sent (%s, %d attempts so far): %s; trying again in %.1fs",
            row.id,
            cause,
            count,
            exc,
            delay,
        )
        async with self.db.transaction() as session:
            stored = await session.get(OutboxMessage, row.id)
            if stored is not None:
                stored.attempts += 1
                stored.last_error = str(exc)[:2000]
        return "retry"

    async def _give_up(self, row: OutboxMessage, error: str, *, cause: str, report: bool = True) -> None:
        """Mark the row failed, for good: logged, counted, audited, and reported unless it is
        itself a failure notice (which would loop) or `report` is off."""
        report = report and not (row.ref or "").startswith(outbox.FAILURE_NOTICE_REF)
        duty_room = await self._duty_room() if report else None
        async with self.db.transaction() as session:
            stored = await session.get(OutboxMessage, row.id)
            if stored is None or stored.failed or stored.sent_at is not None:
                return
            stored.attempts += 1
            attempts = stored.attempts
            stored.last_error = error[:2000]
            stored.failed = True
            _forget_secrets(stored)
            await audit.record(
                session,
                actor=str(getattr(self.client, "user_id", "") or "zhiban"),
                action="outbox.failed",
                subject=f"outbox:{row.id}",
                data={
                    "room": row.room_id,
                    "to_user": row.to_user,
                    "ref": row.ref,
                    "cause": cause,
                    "error": error[:500],
                },
            )
            if report:
                await self._report(session, stored, cause, duty_room)
        FAILED.labels(cause).inc()
        log.error(
            "outbox %s given up (%s) after %d attempts, to %s: %s",
            row.id,
            cause,
            attempts,
            row.room_id or row.to_user,
            error,
            extra={"outbox_row": row.id, "kind": _kind(row), "room": row.room_id or row.to_user, "cause": cause},
        )
        self._must_read = True  # the notices just written

    async def _report(self, session: Any, row: OutboxMessage, cause: str, duty_room: str | None) -> None:
        """One notice to the duty room and one to the person who caused the row, each sent once."""
        ref = f"{outbox.FAILURE_NOTICE_REF}{row.id}"
        params: dict[str, Any] = {"target": row.room_id or row.to_user or "?", "excerpt": _excerpt(row)}
        if duty_room and duty_room != row.room_id:
            body = "\n".join(
                tr("outbox.failed_duty", lang, reason=tr(f"outbox.reason.{cause}", lang), **params)
                for lang in ("zh", "en")
            )
            notice = outbox.text_content(body, msgtype="m.notice")
            await outbox.enqueue(session, notice, room_id=duty_room, ref=ref, priority=outbox.URGENT)
        causer = row.caused_by
        bot = getattr(self.client, "user_id", None)
        # Not when the failed row was for the causer: that DM would fail the same way.
        to_them = causer in (row.to_user, self.client.dm_owners().get(row.room_id or ""))
        if causer and causer != bot and not to_them:
            lang, _ = await people.preferences(session, causer)
            lang = lang or str(getattr(self._settings_now(), "default_lang", "zh") or "zh")
            body = tr("outbox.failed_causer", lang, reason=tr(f"outbox.reason.{cause}", lang), **params)
            await outbox.enqueue(session, outbox.text_content(body), to_user=causer, ref=ref, priority=outbox.URGENT)

    def _settings_now(self) -> Any:
        if self._settings is None:
            dispatcher = getattr(self.client, "dispatcher", None)
            self._settings = getattr(dispatcher, "context", {}).get("settings")
        return self._settings

    async def _duty_room(self) -> str | None:
        settings = self._settings_now()
        if settings is None:
            return None
        try:
            return await room_admin.duty_room_id(settings, self.client)
        except Exception:  # the report still goes to the causer, and to the log
            log.warning("the duty room could not be resolved for a failure notice", exc_info=True)
            return None


def _kind(row: OutboxMessage) -> str:
    """A row's kind in a few words (a metric label and a log field)."""
    if row.event_type == outbox.CREATE_ROOM:
        return "room"
    if row.event_type in outbox.STATE_EVENTS:
        return "state"
    return {"m.room.message": "message", "m.reaction": "reaction", "m.room.redaction": "redaction"}.get(
        row.event_type, "other"
    )


def _replaceable(row: OutboxMessage) -> bool:
    """An edit that a newer edit of the same message makes unnecessary (not one with secrets,
    which are dropped from the row only as it is sent)."""
    return (
        row.relation == "m.replace"
        and row.relates_to_outbox_id is not None
        and row.event_type == "m.room.message"
        and outbox.SECRETS_KEY not in (row.content or {})
    )


def _by_value(superseded: dict[int, int]) -> dict[int, list[int]]:
    """Newer row id -> the ids of the rows it supersedes."""
    grouped: dict[int, list[int]] = {}
    for older, newer in superseded.items():
        grouped.setdefault(newer, []).append(older)
    return grouped


def _forget_secrets(row: OutboxMessage) -> None:
    """Drop a row's secrets once it will never be sent again (see outbox.SECRETS_KEY)."""
    kept = outbox.redacted(row.content)
    if kept is not None:
        row.content = kept


def _excerpt(row: OutboxMessage) -> str:
    body = str((row.content or {}).get("body") or row.event_type)
    line = " ".join(body.split())
    return line if len(line) <= EXCERPT_CHARS else line[: EXCERPT_CHARS - 1] + "…"


def _lane(row: OutboxMessage, dm_owners: dict[str, str], made: dict[int, str] | None = None) -> str:
    """Rows of one lane keep their order; a person's DMs share a lane however they are addressed,
    and a room being created shares one with the rows that go in it."""
    if row.to_user:
        return "user:" + row.to_user
    room_id = row.room_id or ""
    if not room_id and row.event_type == outbox.CREATE_ROOM:
        room_id = (made or {}).get(row.id) or f"made:{row.id}"
    elif not room_id and row.room_ref is not None:
        room_id = (made or {}).get(row.room_ref) or f"made:{row.room_ref}"
    owner = dm_owners.get(room_id)
    return "user:" + owner if owner else "room:" + room_id


def _status(exc: MatrixError) -> int | None:
    transport = getattr(exc.response, "transport_response", None)
    status = getattr(transport, "status", None)
    return status if isinstance(status, int) else None


def _classify(exc: Exception) -> str:
    """Why a send failed: "unreachable" (no answer: refused connection, timeout), "server"
    (a 5xx, or the bot's own session), "rate_limited" (429), "refused" (a 4xx that might
    mend: forbidden, not found) or "invalid" (the event itself is rejected)."""
    if not isinstance(exc, MatrixError):
        return "unreachable"
    status, errcode = _status(exc), exc.status_code
    if status == 429 or errcode == "M_LIMIT_EXCEEDED":
        return "rate_limited"
    if errcode in INVALID_CODES or status == 413:
        return "invalid"
    if status == 401 or errcode in ("M_UNKNOWN_TOKEN", "M_MISSING_TOKEN"):
        return "server"  # the bot's session, not the message: the sync loop logs in again
    if status is not None:
        return "refused" if 400 <= status < 500 else "server"
    return "refused" if errcode in ("M_FORBIDDEN", "M_NOT_FOUND", "M_UNKNOWN") else "server"


def _refusal_reason(exc: Exception) -> str:
    """The cause named in the failure notice (a key of zhiban.texts' outbox.reason.*)."""
    if isinstance(exc, MatrixError):
        status, errcode = _status(exc), exc.status_code
        if status == 403 or errcode == "M_FORBIDDEN":
            return "forbidden"
        if status == 404 or errcode == "M_NOT_FOUND":
            return "not_found"
    return "invalid"
