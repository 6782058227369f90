"""The outbox relay: sends queued events to Matrix, each exactly once.

The outbox row's id, with a per-database nonce, is the Matrix transaction id, so a resend
after a crash between "sent" and "marked sent" is deduplicated by the homeserver.

Order is kept per *lane*: one lane per room, and one per person for direct messages (rows
addressed `to_user` and rows in that person's known DM room share it). Lanes are sent
concurrently, a few at a time, because an incident alert DMs a hundred people and each new
DM room is one room creation at the homeserver (~0.1 s each, bench.incident_fanout): one by
one, they alone took over 10 s.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Any

from bot.client import BotClient
from bot.errors import MatrixError
from records import kv, outbox
from records.clock import SystemClock
from records.db import Database
from records.models import OutboxMessage

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
# Requests in flight at once across lanes; Synapse on two cores gains little beyond this.
CONCURRENCY = 8


class OutboxRelay:
    def __init__(self, db: Database, client: BotClient, *, poll_interval: float = 1.0) -> None:
        self.db = db
        self.client = client
        self.poll_interval = poll_interval
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
        self._last_read = 0.0

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
            if busy:
                continue
            try:
                await asyncio.wait_for(self._wake.wait(), self.poll_interval)
            except TimeoutError:
                self._must_read = True  # the periodic look also finds rows written by workers

    async def relay_once(self) -> bool:
        """Send what is pending, in order. True when it sent something (there may be more)."""
        nonce = await self._txn_nonce()
        fresh, self._fresh = self._fresh, []
        loop = asyncio.get_running_loop()
        if loop.time() - self._last_read > self.poll_interval:
            # Rows from workers (and anything not handed over) are found by reading the table,
            # at least once per poll interval however busy the handlers keep us.
            self._must_read = True
        if not self._must_read:
            rows = fresh
            if not rows:
                return False
        else:
            self._must_read = False
            self._last_read = loop.time()
            async with self.db.reading() as session:
                rows = await outbox.pending(session)
        lanes: dict[str, list[OutboxMessage]] = {}
        owners = self.client.dm_owners()
        for row in rows:
            lanes.setdefault(_lane(row, owners), []).append(row)
        limit = asyncio.Semaphore(CONCURRENCY)
        results = await asyncio.gather(*(self._send_lane(lane, nonce, limit) for lane in lanes.values()))
        sent_any = any(results)
        if rows is not fresh and len(rows) == 50:
            self._must_read = True  # a full page: there may be more waiting
        return sent_any

    async def _send_lane(self, lane: list[OutboxMessage], nonce: str, limit: asyncio.Semaphore) -> bool:
        """Send one lane's rows in order; True when something was sent."""
        sent_any = False
        for row in lane:
            async with limit:
                outcome = await self._send(row, nonce)
            if outcome != "sent":
                self._must_read = True
            if outcome == "retry":
                break  # keep the order: later rows of this lane wait for this one
            sent_any = sent_any or outcome == "sent"
        return sent_any

    async def _send(self, row: OutboxMessage, nonce: str) -> str:
        try:
            room_id = row.room_id or await self.client.dm_room(row.to_user or "")
            content: dict[str, Any] = outbox.sendable(row.content)
            if row.relates_to_outbox_id is not None:
                target, target_failed = await self._target_event(row.relates_to_outbox_id)
                if target_failed:
                    # An edit of (or reaction to) a card that could never be sent cannot be sent either.
                    return await self._failed(row, RuntimeError("its target was never sent"), permanent=True)
                if target is None:
                    return "wait"
                relation = dict(content.get("m.relates_to") or {})
                relation.update({"rel_type": row.relation, "event_id": target})
                content["m.relates_to"] = relation
            txn_id = f"zb{nonce}-{row.id}"
            if row.event_type == "m.room.redaction":
                await self.client.redact(room_id, content["redacts"], content.get("reason"))
                event_id = None
            else:
                event_id = await self.client.send_event(room_id, row.event_type, content, txn_id=txn_id)
        except MatrixError as exc:
            return await self._failed(row, exc, permanent=_is_permanent(exc))
        except Exception as exc:  # the network, a timeout, a room joined but not yet synced: try again
            return await self._failed(row, exc, permanent=False)
        async with self.db.transaction() as session:
            fresh = await session.get(OutboxMessage, row.id)
            if fresh is not None:
                fresh.sent_at = SystemClock().now()
                fresh.event_id = event_id
                fresh.room_id = room_id
                fresh.attempts += 1
                _forget_secrets(fresh)
        self.sent_count += 1
        return "sent"

    async def _target_event(self, outbox_id: int) -> tuple[str | None, bool]:
        """The target's event id (None while unsent), and whether it failed for good."""
        async with self.db.reading() as session:
            target = await session.get(OutboxMessage, outbox_id)
            if target is None:
                return None, True
            return target.event_id, target.failed

    async def _failed(self, row: OutboxMessage, exc: Exception, *, permanent: bool) -> str:
        log.warning("outbox %s not sent (%s): %s", row.id, "giving up" if permanent else "will retry", exc)
        attempts = 1
        async with self.db.transaction() as session:
            fresh = await session.get(OutboxMessage, row.id)
            if fresh is not None:
                fresh.attempts += 1
                attempts = fresh.attempts
                fresh.last_error = str(exc)[:2000]
                fresh.failed = permanent or fresh.attempts >= MAX_ATTEMPTS
                permanent = fresh.failed
                if permanent:
                    _forget_secrets(fresh)
        if not permanent:
            retry_after_ms = getattr(exc, "retry_after_ms", None)
            delay = retry_after_ms / 1000 if retry_after_ms else 2 ** (attempts - 1)
            await asyncio.sleep(min(30.0, delay))
        return "failed" if permanent else "retry"


def _forget_secrets(row: OutboxMessage) -> None:
    """Drop a row's secrets once it will never be sent again (see outbox.SECRETS_KEY)."""
    kept = outbox.redacted(row.content)
    if kept is not None:
        row.content = kept


def _lane(row: OutboxMessage, dm_owners: dict[str, str]) -> str:
    """Rows of one lane keep their order; a person's DMs share a lane however they are addressed."""
    if row.to_user:
        return "user:" + row.to_user
    room_id = row.room_id or ""
    owner = dm_owners.get(room_id)
    return "user:" + owner if owner else "room:" + room_id


def _is_permanent(exc: MatrixError) -> bool:
    """A 4xx other than 429 will fail again (forbidden, unknown room, bad JSON); 429 and 5xx may not."""
    transport = getattr(exc.response, "transport_response", None)
    status = getattr(transport, "status", None)
    if isinstance(status, int):
        return 400 <= status < 500 and status != 429
    return exc.status_code in ("M_FORBIDDEN", "M_NOT_FOUND", "M_BAD_JSON", "M_NOT_JSON", "M_TOO_LARGE")
