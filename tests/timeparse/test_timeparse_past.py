"""Past words (昨天, 前天, 上周五, yesterday, last friday): understood, so a caller that wants the
future says "that time has passed" instead of "could not understand". Clock: Wed 2026-11-25 10:00
in Shanghai."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from timeparse import TimeParseError, parse_when

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # Wed 25 Nov 10:00 in Shanghai

PAST = [
    ("昨天 开会", "昨天", "开会", datetime(2026, 11, 24, 9, 0, tzinfo=SH)),
    ("昨天下午3点 交了材料", "昨天下午3点", "交了材料", datetime(2026, 11, 24, 15, 0, tzinfo=SH)),
    ("昨晚8点", "昨晚8点", "", datetime(2026, 11, 24, 20, 0, tzinfo=SH)),
    ("前天", "前天", "", datetime(2026, 11, 23, 9, 0, tzinfo=SH)),
    ("大前天上午", "大前天上午", "", datetime(2026, 11, 22, 9, 0, tzinfo=SH)),
    ("上周五", "上周五", "", datetime(2026, 11, 20, 9, 0, tzinfo=SH)),
    ("上个星期三下午", "上个星期三下午", "", datetime(2026, 11, 18, 14, 0, tzinfo=SH)),
    ("上上周一", "上上周一", "", datetime(2026, 11, 9, 9, 0, tzinfo=SH)),
    ("yesterday 3pm call", "yesterday 3pm", "call", datetime(2026, 11, 24, 15, 0, tzinfo=SH)),
    ("yesterday", "yesterday", "", datetime(2026, 11, 24, 9, 0, tzinfo=SH)),
    ("the day before yesterday", "the day before yesterday", "", datetime(2026, 11, 23, 9, 0, tzinfo=SH)),
    ("last night", "last night", "", datetime(2026, 11, 24, 20, 0, tzinfo=SH)),
    ("last friday", "last friday", "", datetime(2026, 11, 20, 9, 0, tzinfo=SH)),
    # "last wednesday" on a Wednesday is a week ago, never today.
    ("last wednesday 9am", "last wednesday 9am", "", datetime(2026, 11, 18, 9, 0, tzinfo=SH)),
]


@pytest.mark.parametrize(("text", "matched", "rest", "expected"), PAST)
def test_past_words_are_in_the_past_when_the_future_is_wanted(
    text: str, matched: str, rest: str, expected: datetime
) -> None:
    with pytest.raises(TimeParseError) as info:
        parse_when(text, now=NOW)
    assert info.value.key == "time.in_past"
    assert info.value.params["text"] == matched


@pytest.mark.parametrize(("text", "matched", "rest", "expected"), PAST)
def test_past_words_give_the_past_time_when_allowed(text: str, matched: str, rest: str, expected: datetime) -> None:
    when = parse_when(text, now=NOW, prefer_future=False)
    assert when.at == expected.astimezone(UTC)
    assert when.matched == matched
    assert when.rest == rest


def test_last_weekday_in_english_is_the_most_recent_one() -> None:
    sunday = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)  # Sun 29 Nov 10:00 in Shanghai
    # English "last friday" on a Sunday is two days ago; Chinese 上周五 is last calendar week's.
    assert parse_when("last friday", now=sunday, prefer_future=False).at == datetime(
        2026, 11, 27, 9, 0, tzinfo=SH
    ).astimezone(UTC)
    assert parse_when("上周五", now=sunday, prefer_future=False).at == datetime(
        2026, 11, 20, 9, 0, tzinfo=SH
    ).astimezone(UTC)


def test_the_future_forms_are_unchanged() -> None:
    assert parse_when("周五前", now=NOW).at == datetime(2026, 11, 27, 18, 0, tzinfo=SH).astimezone(UTC)
    assert parse_when("下周五", now=NOW).at == datetime(2026, 12, 4, 9, 0, tzinfo=SH).astimezone(UTC)
    assert parse_when("next friday", now=NOW).at == datetime(2026, 12, 4, 9, 0, tzinfo=SH).astimezone(UTC)
