"""Quiet hours: a daily window, in the person's own time zone, in which pushes wait."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

_RANGE = re.compile(r"^\s*(\d{1,2})(?:[:：](\d{2}))?\s*(?:-|~|–|—|－|～|至|到)\s*(\d{1,2})(?:[:：](\d{2}))?\s*$")


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    def contains(self, moment: time) -> bool:
        if self.start <= self.end:
            return self.start <= moment < self.end
        # Across midnight, e.g. 22:00-07:00.
        return moment >= self.start or moment < self.end


def parse_quiet_hours(text: str) -> QuietHours:
    """Read "22:00-07:00" (also "22-7", "22:00～07:00", "22点至7点" without 点); ValueError if not."""
    match = _RANGE.match(text.replace("点", ""))
    if not match:
        raise ValueError(f"not a time range: {text!r}")
    h1, m1, h2, m2 = match.groups()
    try:
        start = time(int(h1), int(m1 or 0))
        end = time(int(h2), int(m2 or 0))
    except ValueError:
        raise ValueError(f"not a time of day in {text!r}") from None
    if start == end:
        raise ValueError("quiet hours must not start and end at the same time")
    return QuietHours(start, end)


def is_quiet(stored: str | None, tz: str, now: datetime) -> bool:
    """Whether `now` (aware) falls in the stored window in zone `tz`; unreadable means no."""
    if not stored:
        return False
    try:
        window = parse_quiet_hours(stored)
        local = now.astimezone(ZoneInfo(tz))
    except (ValueError, KeyError):
        return False
    return window.contains(local.time().replace(tzinfo=None))
