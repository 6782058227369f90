"""Reading a Server-Sent Events stream in a test: one parsed event at a time."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx


@dataclass(frozen=True)
class ServerEvent:
    id: str
    event: str
    data: str

    def json(self) -> dict[str, object]:
        value = json.loads(self.data)
        assert isinstance(value, dict)
        return value


async def events(response: httpx.Response) -> AsyncIterator[ServerEvent]:
    """The events of `response` as they arrive (comments skipped; a `retry:` line alone comes as
    an event named "retry")."""
    fields: dict[str, str] = {}
    async for line in response.aiter_lines():
        if not line:
            if "data" in fields:
                yield ServerEvent(fields.get("id", ""), fields.get("event", "message"), fields["data"])
            elif "retry" in fields:  # the stream is open and its first answer was sent
                yield ServerEvent("", "retry", fields["retry"])
            fields = {}
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        fields[name] = value.removeprefix(" ")


async def next_board(stream: AsyncIterator[ServerEvent]) -> ServerEvent:
    """The next `board` event (a `retry` line before it is skipped)."""
    async for event in stream:
        if event.event == "board":
            return event
    raise AssertionError("the stream ended")
