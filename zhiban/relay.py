"""The outbox relay: sends queued events to Matrix, each exactly once.

The outbox row's id, with a per-database nonce, is the Matrix transaction id, so a resend
after a crash between "sent" and "marked sent" is deduplicated by the homeserver.
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


class OutboxRelay:
    def __init__(self, db: Database, client: BotClient, *, poll_interval: float = 1.0) -> None:
        self.db = db
        self.client = client
        self.poll_interval = poll_interval
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._nonce = ""
        self.sent_count = 0
        # Rows just committed by this process's handlers. While the relay is caught up (the
        # last look at the table found nothing waiting) it sends them without reading back.
        self._fresh: list[OutboxMessage] = []
        self._caught_up = False

    def wake(self, committed: list[OutboxMessage] | None = None) -> None:
        if committed:
            self._fresh.extend(committed)
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
                self._caught_up = False  # the periodic look also finds rows written by workers

    async def relay_once(self) -> bool:
        """Send what is pending, in order. True when it sent something (there may be more)."""
        nonce = await self._txn_nonce()
        fresh, self._fresh = self._fresh, []
        if self._caught_up:
            rows = fresh
            if not rows:
                return False
        else:
            async with self.db.reading() as session:
                rows = await outbox.pending(session)
        sent_any = False
        self._caught_up = True
        for row in rows:
            outcome = await self._send(row, nonce)
            if outcome != "sent":
                self._caught_up = False
            if outcome == "retry":
                break  # keep the order: later rows wait for this one
            sent_any = sent_any or outcome == "sent"
        if rows is not fresh and len(rows) == 50:
            self._caught_up = False  # a full page: there may be more waiting
        return sent_any

    async def _send(self, row: OutboxMessage, nonce: str) -> str:
        try:
            room_id = row.room_id or await self.client.dm_room(row.to_user or "")
            content: dict[str, Any] = dict(row.content)
            if row.relates_to_outbox_id is not None:
                target = await self._target_event(row.relates_to_outbox_id)
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
        except Exception as exc:
            return await self._failed(row, exc, permanent=False)
        async with self.db.transaction() as session:
            fresh = await session.get(OutboxMessage, row.id)
            if fresh is not None:
                fresh.sent_at = SystemClock().now()
                fresh.event_id = event_id
                fresh.room_id = room_id
                fresh.attempts += 1
        self.sent_count += 1
        return "sent"

    async def _target_event(self, outbox_id: int) -> str | None:
        async with self.db.reading() as session:
            target = await session.get(OutboxMessage, outbox_id)
            return None if target is None else target.event_id

    async def _failed(self, row: OutboxMessage, exc: Exception, *, permanent: bool) -> str:
        log.warning("outbox %s not sent (%s): %s", row.id, "giving up" if permanent else "will retry", exc)
        async with self.db.transaction() as session:
            fresh = await session.get(OutboxMessage, row.id)
            if fresh is not None:
                fresh.attempts += 1
                fresh.last_error = str(exc)[:2000]
                fresh.failed = permanent or fresh.attempts >= MAX_ATTEMPTS
                permanent = fresh.failed
        if not permanent:
            delay = getattr(exc, "retry_after_ms", None)
            await asyncio.sleep(min(30.0, (delay or 1000) / 1000 * max(1, row.attempts)))
        return "failed" if permanent else "retry"


def _is_permanent(exc: MatrixError) -> bool:
    status = exc.status_code
    # Forbidden, unknown room, bad JSON: sending again will not help. 429 and 5xx will.
    return isinstance(status, str) and status in ("M_FORBIDDEN", "M_NOT_FOUND", "M_BAD_JSON", "M_UNKNOWN")
