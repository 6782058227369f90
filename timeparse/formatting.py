"""Echo times back to users: every parse is shown so they can see what we understood."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from .texts import MONTHS_EN, WEEKDAYS, text
from .zones import DEFAULT_TZ, require_aware

_HINTS = {0: "fmt.today", 1: "fmt.tomorrow", 2: "fmt.day_after_tomorrow", -1: "fmt.yesterday"}


def format_when(
    dt_utc: datetime,
    *,
    tz: str = DEFAULT_TZ,
    lang: str = "zh",
    now: datetime | None = None,
    hints: bool = False,
) -> str:
    """zh "11月26日（周四）15:00", en "Thu 26 Nov 15:00", in the user's zone.

    The year is shown only when it differs from the current year (``now``, in
    the same zone). ``hints`` prefixes 今天/明天/后天 (today/tomorrow/…).
    """
    from .zones import get_zone  # local import keeps the module's surface small

    zone = get_zone(tz)
    local = require_aware(dt_utc, "dt_utc").astimezone(zone)
    local_now = require_aware(now if now is not None else datetime.now(UTC)).astimezone(zone)
    show_year = local.year != local_now.year
    weekday = WEEKDAYS["en" if lang == "en" else "zh"][local.weekday()]
    clock = f"{local:%H:%M}"
    if lang == "en":
        year = f" {local.year}" if show_year else ""
        body = f"{weekday} {local.day} {MONTHS_EN[local.month - 1]}{year} {clock}"
    else:
        year = f"{local.year}年" if show_year else ""
        body = f"{year}{local.month}月{local.day}日（{weekday}）{clock}"
    if hints:
        key = _HINTS.get((local.date() - local_now.date()).days)
        if key is not None:
            hint = text(key, lang)
            return f"{hint}, {body}" if lang == "en" else f"{hint} {body}"
    return body


def format_duration(seconds: float, lang: str = "zh") -> str:
    """zh "2小时30分", en "2h 30m". Seconds are shown only for spans under an hour."""
    total = round(seconds)
    sign = "-" if total < 0 else ""
    total = abs(total)
    days, rem = divmod(total, 86400)
    hours, rem = divmod(rem, 3600)
    minutes, secs = divmod(rem, 60)
    units = ("天", "小时", "分", "秒") if lang != "en" else ("d", "h", "m", "s")
    values = (days, hours, minutes, secs if total < 3600 else 0)
    parts = [f"{value}{unit}" for value, unit in zip(values, units, strict=True) if value]
    if not parts:
        parts = [f"0{units[2]}"]
    return sign + ("" if lang != "en" else " ").join(parts)


def minutes_late(seconds: float) -> int:
    """Whole minutes past a deadline, rounded up: a report a few seconds late is 1 minute late,
    never 0; at or before the deadline it is 0 (not late)."""
    return max(0, math.ceil(seconds / 60))
