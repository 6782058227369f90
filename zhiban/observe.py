"""Counting and logging each event the bot handles: by feature and outcome, and how long it took.

The outermost middleware: it sees the whole turn, the transaction included. It logs who did
what in domain words (feature, command, sender, room, outcome), never a message's text.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from prometheus_client import Counter, Histogram

from bot.errors import UserFacingError
from bot.router import NextHandler
from bot.types import Event
from records.errors import DomainError

log = logging.getLogger("zhiban.events")

EVENTS = Counter(
    "zhiban_events_handled",
    "Events the bot handled, by feature (the router that took it), event type and outcome",
    ["feature", "event", "outcome"],
)
HANDLER_SECONDS = Histogram(
    "zhiban_handler_seconds",
    "Time from the start of an event's handling to its commit, by feature",
    ["feature"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
NO_FEATURE = "none"


def outcome_of(data: dict[str, Any]) -> str:
    """ok, refused (the user's mistake, answered with usage), error, duplicate or unhandled."""
    if data.get("duplicate"):
        return "duplicate"
    failure = data.get("failure")
    if isinstance(failure, (UserFacingError, DomainError)):
        return "refused"
    if failure is not None:
        return "error"
    return "ok" if data.get("router") else "unhandled"


def feature_of(data: dict[str, Any]) -> str:
    """The feature whose router took the event: "tasks" for tasks.supervision."""
    router = data.get("router")
    return str(router).split(".", 1)[0] if router else NO_FEATURE


def command_of(data: dict[str, Any]) -> str | None:
    """The command's canonical name and sub-command (never its arguments)."""
    command = data.get("command")
    name = getattr(command, "name", None)
    if not name:
        return None
    sub = getattr(command, "sub", None)
    return f"{name} {sub}" if sub else str(name)


class Observed:
    """Counts, times and logs every event; wraps ExactlyOnce, which notes failures in `data`."""

    async def __call__(self, handler: NextHandler, event: Event, data: dict[str, Any]) -> Any:
        started = time.perf_counter()
        try:
            return await handler(event, data)
        except Exception as exc:
            data.setdefault("failure", exc)
            raise
        finally:
            seconds = time.perf_counter() - started
            self._record(event, data, seconds)

    def _record(self, event: Event, data: dict[str, Any], seconds: float) -> None:
        feature, outcome = feature_of(data), outcome_of(data)
        kind = type(event).__name__.removesuffix("Event").lower() or "event"
        EVENTS.labels(feature, kind, outcome).inc()
        HANDLER_SECONDS.labels(feature).observe(seconds)
        command = command_of(data)
        facts = {
            "event_id": event.event_id,
            "event": kind,
            "feature": feature,
            "command": command,
            "sender": event.sender,
            "room": event.room_id,
            "outcome": outcome,
            "seconds": round(seconds, 4),
        }
        # What a person asked for (a command, a wizard's answer, a ✅ on a card) is worth a line;
        # joins, read receipts and the chatter no handler took are not, unless they failed.
        level = logging.DEBUG
        if outcome == "error":
            level = logging.WARNING
        elif outcome in ("ok", "refused") and kind in ("message", "reaction"):
            level = logging.INFO
        log.log(
            level,
            "%s %s from %s in %s: %s (%.3f s)",
            feature,
            command or kind,
            event.sender,
            event.room_id,
            outcome,
            seconds,
            extra=facts,
        )
