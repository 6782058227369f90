"""The exactly-once `Outbound`: a handler's replies become outbox rows in its transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.outbound import Sent
from records import outbox
from records.models import OutboxMessage


class OutboxWriter:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.rows: list[OutboxMessage] = []

    @property
    def count(self) -> int:
        return len(self.rows)

    async def send(
        self, room_id: str, content: dict[str, Any], *, event_type: str = "m.room.message", ref: str | None = None
    ) -> Sent:
        row = await outbox.enqueue(self.session, content, room_id=room_id, event_type=event_type, ref=ref)
        self.rows.append(row)
        return Sent(room_id, None, row.id)

    async def redact(self, room_id: str, event_id: str, reason: str | None = None) -> None:
        content = {"redacts": event_id, **({"reason": reason} if reason else {})}
        self.rows.append(await outbox.enqueue(self.session, content, room_id=room_id, event_type="m.room.redaction"))
