"""Echoing times back: format_when and format_duration."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from timeparse import format_duration, format_when, minutes_late

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # Wed 25 Nov 10:00 in Shanghai
AT = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)  # Thu 26 Nov 15:00 in Shanghai


def test_chinese_format() -> None:
    assert format_when(AT, tz="Asia/Shanghai", lang="zh", now=NOW) == "11月26日（周四）15:00"


def test_english_format() -> None:
    assert format_when(AT, tz="Asia/Shanghai", lang="en", now=NOW) == "Thu 26 Nov 15:00"


def test_format_is_in_the_users_zone() -> None:
    assert format_when(AT, tz="America/New_York", lang="en", now=NOW) == "Thu 26 Nov 02:00"
    assert format_when(AT, tz="UTC", lang="zh", now=NOW) == "11月26日（周四）07:00"


def test_year_only_when_not_the_current_year() -> None:
    later = datetime(2027, 1, 5, 1, 0, tzinfo=UTC)
    assert format_when(later, tz="Asia/Shanghai", lang="zh", now=NOW) == "2027年1月5日（周二）09:00"
    assert format_when(later, tz="Asia/Shanghai", lang="en", now=NOW) == "Tue 5 Jan 2027 09:00"


def test_year_is_judged_in_the_users_zone() -> None:
    # 31 Dec 2026 17:00 UTC is already 1 Jan 2027 in Shanghai, the same day as "now".
    now = datetime(2026, 12, 31, 16, 30, tzinfo=UTC)
    at = datetime(2026, 12, 31, 17, 0, tzinfo=UTC)
    assert format_when(at, tz="Asia/Shanghai", lang="zh", now=now) == "1月1日（周五）01:00"


@pytest.mark.parametrize(
    ("at", "zh", "en"),
    [
        (datetime(2026, 11, 25, 7, 0, tzinfo=UTC), "今天 11月25日（周三）15:00", "today, Wed 25 Nov 15:00"),
        (AT, "明天 11月26日（周四）15:00", "tomorrow, Thu 26 Nov 15:00"),
        (
            datetime(2026, 11, 27, 7, 0, tzinfo=UTC),
            "后天 11月27日（周五）15:00",
            "the day after tomorrow, Fri 27 Nov 15:00",
        ),
        (datetime(2026, 11, 30, 1, 0, tzinfo=UTC), "11月30日（周一）09:00", "Mon 30 Nov 09:00"),
    ],
)
def test_hints(at: datetime, zh: str, en: str) -> None:
    assert format_when(at, tz="Asia/Shanghai", lang="zh", now=NOW, hints=True) == zh
    assert format_when(at, tz="Asia/Shanghai", lang="en", now=NOW, hints=True) == en


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError):
        format_when(datetime(2026, 11, 26, 15, 0), tz="Asia/Shanghai", now=NOW)


@pytest.mark.parametrize(
    ("seconds", "zh", "en"),
    [
        (9000, "2小时30分", "2h 30m"),
        (3600, "1小时", "1h"),
        (30, "30秒", "30s"),
        (90, "1分30秒", "1m 30s"),
        (3661, "1小时1分", "1h 1m"),  # seconds dropped for spans of an hour or more
        (90061, "1天1小时1分", "1d 1h 1m"),
        (0, "0分", "0m"),
        (-1800, "-30分", "-30m"),
        (59.6, "1分", "1m"),
    ],
)
def test_format_duration(seconds: float, zh: str, en: str) -> None:
    assert format_duration(seconds, "zh") == zh
    assert format_duration(seconds, "en") == en


@pytest.mark.parametrize(("seconds", "minutes"), [(-60, 0), (0, 0), (0.4, 1), (5, 1), (60, 1), (61, 2), (1800, 30)])
def test_minutes_late_round_up_and_are_never_zero_once_past(seconds: float, minutes: int) -> None:
    assert minutes_late(seconds) == minutes
