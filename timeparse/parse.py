"""parse_when: find the time expression at the start of a command's text.

``!remind me 明天下午3点 交材料`` -> the handler passes "明天下午3点 交材料" and
gets ``When(at=…UTC…, rest="交材料", matched="明天下午3点")``.
Both grammars try the start of the text and the longer match wins; dateparser
is the fallback for forms they do not cover.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from . import grammar_en, grammar_zh
from .budget import HORIZON_DAYS, HORIZON_YEARS, bounded, check
from .errors import TimeParseError
from .fallback import parse_prefix
from .fallback import warm_up as _warm_up_fallback
from .normalize import normalize
from .options import DEFAULT_OPTIONS, ParseOptions
from .resolve import resolve
from .spec import GrammarMatch
from .workdays import unknown_holiday_year
from .zones import DEFAULT_TZ, get_zone, require_aware, to_local

# Separators between the time and the message: "明天9点：交材料", "tomorrow 9am - call", "… to call mom".
_REST_LEAD = re.compile(r"(?:[\s,，:：;；、\-—~]+|to\s+(?=\S))+", re.IGNORECASE)
_QUOTE_MAX = 24
# The longest time expression people write ("2026年11月30日（周一）下午3点半之前", "the day
# after tomorrow in the afternoon at 10:30 pm") is about 40 characters. Only this much of the
# text is read, so that a long message costs what a short one does: the rest is the message.
WINDOW = 80


@dataclass(frozen=True)
class When:
    """A parsed time: ``at`` is aware UTC, ``matched`` the user's words for it,
    ``rest`` the remaining text (the reminder's message), ``tz`` the zone used.

    ``rest_start`` is where ``rest`` begins in the text given. ``holidays_unknown`` is the
    first year a count of working days ran into whose official holidays chinese-calendar
    does not know yet (Monday–Friday were counted): replies should say so."""

    at: datetime
    rest: str
    matched: str
    tz: str = DEFAULT_TZ
    rest_start: int = 0
    holidays_unknown: int | None = None


def _quote(text: str) -> str:
    text = text.strip()
    return text if len(text) <= _QUOTE_MAX else text[:_QUOTE_MAX] + "…"


def _rest_of(text: str, end: int) -> tuple[str, int]:
    """The message after the time (separators dropped) and where it starts in ``text``."""
    lead = _REST_LEAD.match(text, end)
    start = lead.end() if lead else end
    rest = text[start:]
    stripped = rest.lstrip()
    return stripped.rstrip(), start + len(rest) - len(stripped)


def _best(matches: list[GrammarMatch | None]) -> GrammarMatch | None:
    found = [m for m in matches if m is not None]
    return max(found, key=lambda m: m.end) if found else None


@bounded
def parse_when(
    text: str,
    *,
    now: datetime,
    tz: str = DEFAULT_TZ,
    prefer_future: bool = True,
    options: ParseOptions = DEFAULT_OPTIONS,
) -> When:
    """Parse the time expression at the start of ``text``.

    ``now`` must be timezone-aware. Raises TimeParseError with key
    ``time.empty``, ``time.unparsed``, ``time.in_past``, ``time.invalid_date``,
    ``time.invalid_clock``, ``time.unknown_timezone``, ``time.too_far`` (beyond the
    horizon of budget.py) or ``time.too_complex`` (the parse ran out of time).
    """
    now = require_aware(now)
    get_zone(tz)
    check()
    body = text.lstrip()
    if not body:
        raise TimeParseError("time.empty")
    offset = len(text) - len(body)
    # Only the head of the text can hold the time; the grammars and dateparser never see
    # more, however long the message (offsets below are relative to ``head``).
    head = text[offset : offset + WINDOW]
    norm = normalize(head)
    best = _best([grammar_zh.match(norm.text, 0), grammar_en.match(norm.text, 0)])
    holidays_unknown: int | None = None
    if best is not None:
        end = offset + norm.original_end(best.end)
        matched = text[offset:end].strip()
        at = resolve(best.spec, now=now, tz=tz, prefer_future=prefer_future, options=options, source=matched)
        if best.spec.working_days is not None:
            holidays_unknown = unknown_holiday_year(to_local(now, tz).date(), to_local(at, tz).date())
    else:
        fallback = parse_prefix(head, 0, now=now, tz=tz, prefer_future=prefer_future, options=options)
        if fallback is None:
            raise TimeParseError("time.unparsed", text=_quote(text))
        end = offset + fallback.end
        matched = text[offset:end].strip()
        at = fallback.at
        if prefer_future and at <= now:
            raise TimeParseError("time.in_past", text=matched)
    if abs(at - now) > timedelta(days=HORIZON_DAYS):
        raise TimeParseError("time.too_far", text=matched, years=HORIZON_YEARS)
    rest, rest_start = _rest_of(text, end)
    return When(
        at=at.astimezone(UTC),
        rest=rest,
        matched=matched,
        tz=tz,
        rest_start=rest_start,
        holidays_unknown=holidays_unknown,
    )


def warm_up() -> None:
    """Load the lazily imported parts (cn2an, dateparser and its data: ~200 ms in all)
    at start-up, so that the first user's command does not pay for them."""
    normalize("三点")
    _warm_up_fallback()
