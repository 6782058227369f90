"""Where a handler's replies go.

By default the framework sends straight to the homeserver. An application that wants
exactly-once delivery installs its own `Outbound` for the duration of a handler (for example
one that writes to an outbox in the handler's database transaction); `Message.reply()` and
friends then use it without knowing.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass
class Sent:
    """A handle on something sent: the event id when known now, else the outbox reference."""

    room_id: str
    event_id: str | None = None
    outbox_id: int | None = None


class Outbound(Protocol):
    async def send(
        self, room_id: str, content: dict[str, Any], *, event_type: str = "m.room.message", ref: str | None = None
    ) -> Sent: ...

    async def redact(self, room_id: str, event_id: str, reason: str | None = None) -> None: ...


current_outbound: ContextVar[Outbound | None] = ContextVar("zhiban_outbound", default=None)
