"""parse_when: find the time expression at the start of a command's text.

``!remind me 明天下午3点 交材料`` -> the handler passes "明天下午3点 交材料" and
gets ``When(at=…UTC…, rest="交材料", matched="明天下午3点")``.
Both grammars try the start of the text and the longer match wins; dateparser
is the fallback for forms they do not cover.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from . import grammar_en, grammar_zh
from .errors import TimeParseError
from .fallback import parse_prefix
from .fallback import warm_up as _warm_up_fallback
from .normalize import normalize
from .options import DEFAULT_OPTIONS, ParseOptions
from .resolve import resolve
from .spec import GrammarMatch
from .zones import DEFAULT_TZ, get_zone, require_aware

# Separators between the time and the message: "明天9点：交材料", "tomorrow 9am - call", "… to call mom".
_REST_LEAD = re.compile(r"^(?:[\s,，:：;；、\-—~]+|to\s+(?=\S))+", re.IGNORECASE)
_QUOTE_MAX = 24


@dataclass(frozen=True)
class When:
    """A parsed time: ``at`` is aware UTC, ``matched`` the user's words for it,
    ``rest`` the remaining text (the reminder's message), ``tz`` the zone used."""

    at: datetime
    rest: str
    matched: str
    tz: str = DEFAULT_TZ


def _quote(text: str) -> str:
    text = text.strip()
    return text if len(text) <= _QUOTE_MAX else text[:_QUOTE_MAX] + "…"


def _clean_rest(rest: str) -> str:
    return _REST_LEAD.sub("", rest).strip()


def _best(matches: list[GrammarMatch | None]) -> GrammarMatch | None:
    found = [m for m in matches if m is not None]
    return max(found, key=lambda m: m.end) if found else None


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
    ``time.invalid_clock`` or ``time.unknown_timezone``.
    """
    now = require_aware(now)
    get_zone(tz)
    if not text.strip():
        raise TimeParseError("time.empty")
    norm = normalize(text)
    start = len(norm.text) - len(norm.text.lstrip())
    best = _best([grammar_zh.match(norm.text, start), grammar_en.match(norm.text, start)])
    orig_start = norm.original_end(start)
    if best is not None:
        end = norm.original_end(best.end)
        matched = text[orig_start:end].strip()
        at = resolve(best.spec, now=now, tz=tz, prefer_future=prefer_future, options=options, source=matched)
    else:
        fallback = parse_prefix(text, orig_start, now=now, tz=tz, prefer_future=prefer_future, options=options)
        if fallback is None:
            raise TimeParseError("time.unparsed", text=_quote(text))
        end = fallback.end
        matched = text[orig_start:end].strip()
        at = fallback.at
        if prefer_future and at <= now:
            raise TimeParseError("time.in_past", text=matched)
    return When(at=at.astimezone(UTC), rest=_clean_rest(text[end:]), matched=matched, tz=tz)


def warm_up() -> None:
    """Load the lazily imported parts (cn2an, dateparser and its data: ~200 ms in all)
    at start-up, so that the first user's command does not pay for them."""
    normalize("三点")
    _warm_up_fallback()
