"""English time expressions, with a fixed clock: Wednesday 2026-11-25 10:00 in Shanghai."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from timeparse import TimeParseError, parse_when

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # Wed 25 Nov 10:00 in Shanghai


def sh(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SH).astimezone(UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("in 30 seconds", NOW + timedelta(seconds=30)),
        ("in 5 minutes", NOW + timedelta(minutes=5)),
        ("in 2 hours", NOW + timedelta(hours=2)),
        ("in an hour", NOW + timedelta(hours=1)),
        ("in half an hour", NOW + timedelta(minutes=30)),
        ("in 1h30m", NOW + timedelta(minutes=90)),
        ("in 1 hour and 15 minutes", NOW + timedelta(minutes=75)),
        ("in 30s", NOW + timedelta(seconds=30)),
        ("10 minutes from now", NOW + timedelta(minutes=10)),
        ("in 3 days", sh(11, 28, 10)),
        ("in 3 days at 9am", sh(11, 28, 9)),
        ("in 2 weeks", sh(12, 9, 10)),
        ("tomorrow 9am", sh(11, 26, 9)),
        ("tomorrow at 15:00", sh(11, 26, 15)),
        ("tomorrow", sh(11, 26, 9)),
        ("tomorrow afternoon", sh(11, 26, 14)),
        ("the day after tomorrow", sh(11, 27, 9)),
        ("tonight", sh(11, 25, 20)),
        ("at 16", sh(11, 25, 16)),
        ("at 16:30", sh(11, 25, 16, 30)),
        ("at 9", sh(11, 26, 9)),  # 09:00 has passed today
        ("at 3", sh(11, 25, 15)),  # a bare office hour 1-6 is the afternoon
        ("at 3am", sh(11, 26, 3)),
        ("monday 9am", sh(11, 30, 9)),
        ("mon 9:00", sh(11, 30, 9)),
        ("next monday", sh(11, 30, 9)),
        ("next friday", sh(12, 4, 9)),  # Friday of next week, as 下周五
        ("this friday", sh(11, 27, 9)),
        ("friday", sh(11, 27, 9)),
        ("on friday at 2pm", sh(11, 27, 14)),
        ("wednesday 11am", sh(11, 25, 11)),  # today, still ahead
        ("wednesday 9am", sh(12, 2, 9)),  # today's has passed: next week
        ("by friday", sh(11, 27, 18)),
        ("by 5pm", sh(11, 25, 17)),
        ("end of day", sh(11, 25, 18)),
        ("by eod", sh(11, 25, 18)),
        ("end of week", sh(11, 27, 18)),
        ("2026-12-01 10:00", sh(12, 1, 10)),
        ("2026-12-01", sh(12, 1, 9)),
        ("10pm", sh(11, 25, 22)),
        ("10:30 pm", sh(11, 25, 22, 30)),
        ("12am", sh(11, 26, 0)),
        ("12pm", sh(11, 25, 12)),
        ("noon", sh(11, 25, 12)),
        ("at noon", sh(11, 25, 12)),
        ("midnight", sh(11, 26, 0)),
        ("9am tomorrow", sh(11, 26, 9)),
        ("3pm on friday", sh(11, 27, 15)),
        ("9:30", sh(11, 26, 9, 30)),
        ("TOMORROW 9AM", sh(11, 26, 9)),
        # dateparser fallback: month names
        ("Dec 1 3pm", sh(12, 1, 15)),
        ("1 December 2026", sh(12, 1, 9)),
        ("December 1st at 10:00", sh(12, 1, 10)),
    ],
)
def test_english_expressions(text: str, expected: datetime) -> None:
    when = parse_when(text, now=NOW)
    assert when.at == expected
    assert when.rest == ""


@pytest.mark.parametrize(
    ("text", "matched", "rest"),
    [
        ("in 30 minutes check the oven", "in 30 minutes", "check the oven"),
        ("tomorrow 9am call the office", "tomorrow 9am", "call the office"),
        ("tomorrow at 9am to call mom", "tomorrow at 9am", "call mom"),
        ("at 16 standup", "at 16", "standup"),
        ("friday: send the report", "friday", "send the report"),
        ("Dec 1 3pm budget review", "Dec 1 3pm", "budget review"),
        ("next monday 明天的材料", "next monday", "明天的材料"),
    ],
)
def test_english_rest_is_the_message(text: str, matched: str, rest: str) -> None:
    when = parse_when(text, now=NOW)
    assert when.matched == matched
    assert when.rest == rest


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("call mom", "time.unparsed"),
        ("16", "time.unparsed"),  # a bare number is not a time without "at"
        ("today at 9am", "time.in_past"),
        ("2025-12-01 10:00", "time.in_past"),
        ("at 25", "time.invalid_clock"),
        ("13pm", "time.invalid_clock"),
        ("2026-02-30", "time.invalid_date"),
    ],
)
def test_english_errors(text: str, key: str) -> None:
    with pytest.raises(TimeParseError) as info:
        parse_when(text, now=NOW)
    assert info.value.key == key


@pytest.mark.parametrize("text", ["may call you later", "march forward", "in 10", "at 2016", "second meeting"])
def test_fallback_does_not_take_ordinary_words_or_bare_numbers(text: str) -> None:
    with pytest.raises(TimeParseError):
        parse_when(text, now=NOW)


def test_fallback_reads_relative_phrases() -> None:
    when = parse_when("next week review", now=NOW)
    assert when.matched == "next week"
    assert when.rest == "review"
    assert when.at > NOW


def test_warm_up_loads_lazy_parts() -> None:
    import sys

    from timeparse import warm_up

    warm_up()
    assert "cn2an" in sys.modules
    assert "dateparser.date" in sys.modules
