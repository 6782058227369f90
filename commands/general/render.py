"""How the general commands show things."""

from __future__ import annotations

from datetime import UTC, datetime

from timeparse import get_zone


def now_in(tz: str) -> str:
    """The current time in a zone, as the time-zone replies show it."""
    return datetime.now(UTC).astimezone(get_zone(tz)).strftime("%Y-%m-%d %H:%M")
