"""Time-zone plumbing: wall-clock arithmetic in the user's zone, storage in UTC.

Every calendar rule ("tomorrow", "every Monday 9:00") is evaluated on naive
local wall time and only then turned into an instant. That is what users mean
across DST changes: "9:00 every day" stays 9:00 on the clock, while
"in 2 hours" (handled elsewhere) stays exactly 7,200 seconds.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import TimeParseError

DEFAULT_TZ = "Asia/Shanghai"
# IANA names are short ASCII paths ("America/Argentina/Buenos_Aires" is among the longest).
# Checking the shape first keeps odd text away from the file system: "Asia" is a directory
# (IsADirectoryError), a 300-character name is too long for it (OSError).
_ZONE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z0-9_+\-]+){0,3}")
_ZONE_MAX = 64


@lru_cache(maxsize=256)
def get_zone(name: str) -> ZoneInfo:
    """The zone called ``name``; raises TimeParseError (time.unknown_timezone) if unknown."""
    if len(name) > _ZONE_MAX or not _ZONE_NAME.fullmatch(name):
        raise TimeParseError("time.unknown_timezone", text=name[:_ZONE_MAX])
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise TimeParseError("time.unknown_timezone", text=name) from exc


def require_aware(value: datetime, what: str = "now") -> datetime:
    """Refuse naive datetimes: a naive 'now' is the root of the classic reminder-bot bugs."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware (UTC)")
    return value.astimezone(UTC)


def to_local(value: datetime, tz: str) -> datetime:
    """Aware UTC instant -> naive wall time in ``tz``."""
    return require_aware(value, "value").astimezone(get_zone(tz)).replace(tzinfo=None)


def local_to_utc(wall: datetime, tz: str) -> datetime:
    """Naive wall time in ``tz`` -> aware UTC instant.

    Uses fold=0 (PEP 495): an ambiguous wall time (the repeated hour when clocks
    go back) means its *first* occurrence, and a wall time that does not exist
    (the skipped hour when clocks go forward) is pushed forward by the gap,
    e.g. 02:30 on the spring-forward day in New York becomes 03:30 EDT.
    """
    aware = wall.replace(tzinfo=get_zone(tz), fold=0)
    return aware.astimezone(UTC)
