"""Fakes for unit tests of the framework (never used by integration tests)."""

from __future__ import annotations

import itertools
from typing import Any

from bot.outbound import Sent
from bot.types import Message, ReactionEvent

_ids = itertools.count(1)


class RecordingOutbound:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, dict[str, Any]]] = []
        self.redacted: list[str] = []

    async def send(
        self, room_id: str, content: dict[str, Any], *, event_type: str = "m.room.message", ref: str | None = None
    ) -> Sent:
        self.sent.append((room_id, event_type, content))
        return Sent(room_id, f"$out{next(_ids)}")

    async def redact(self, room_id: str, event_id: str, reason: str | None = None) -> None:
        self.redacted.append(event_id)

    @property
    def bodies(self) -> list[str]:
        return [c.get("body", "") for _, t, c in self.sent if t == "m.room.message"]


def message(body: str, *, sender: str = "@alice:x", room: str = "!room:x", **kw: Any) -> Message:
    return Message(
        room_id=room,
        event_id=f"$in{next(_ids)}",
        sender=sender,
        timestamp_ms=0,
        source={},
        body=body,
        **kw,
    )


def reaction(key: str, target: str, *, sender: str = "@alice:x", room: str = "!room:x") -> ReactionEvent:
    return ReactionEvent(
        room_id=room, event_id=f"$in{next(_ids)}", sender=sender, timestamp_ms=0, source={}, key=key, reacts_to=target
    )
