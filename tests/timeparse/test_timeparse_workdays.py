"""Working days from chinese-calendar: holidays, 调休 make-up days, and the fallback."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from timeparse import add_working_days, deadline_in_working_days, is_working_day, parse_when

SH = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2025, 9, 26), True),  # Friday
        (date(2025, 9, 27), False),  # Saturday
        (date(2025, 9, 28), True),  # Sunday, make-up workday for National Day
        (date(2025, 10, 1), False),  # National Day
        (date(2025, 10, 8), False),  # last day of the holiday (Mid-Autumn joined it)
        (date(2025, 10, 9), True),
        (date(2025, 10, 11), True),  # Saturday, make-up workday
        (date(2025, 10, 12), False),
    ],
)
def test_national_day_2025(day: date, working: bool) -> None:
    assert is_working_day(day) is working


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (date(2025, 9, 30), 1, date(2025, 10, 9)),  # over the whole holiday
        (date(2025, 9, 30), 3, date(2025, 10, 11)),  # the make-up Saturday counts
        (date(2025, 9, 27), 1, date(2025, 9, 28)),  # the make-up Sunday counts
        (date(2025, 9, 26), 0, date(2025, 9, 26)),
        (date(2025, 10, 1), 0, date(2025, 10, 9)),
        (date(2025, 10, 9), -1, date(2025, 9, 30)),
    ],
)
def test_add_working_days(start: date, n: int, expected: date) -> None:
    assert add_working_days(start, n) == expected


def test_deadline_in_working_days_counts_from_the_local_date() -> None:
    # 17:30 UTC on 29 Sep 2025 is 01:30 on 30 Sep in Shanghai: count from the 30th.
    now = datetime(2025, 9, 29, 17, 30, tzinfo=UTC)
    deadline = deadline_in_working_days(now, 1, "Asia/Shanghai")
    assert deadline == datetime(2025, 10, 9, 18, 0, tzinfo=SH).astimezone(UTC)
    assert deadline.tzinfo is UTC
    custom = deadline_in_working_days(now, 1, "Asia/Shanghai", end_of_day=time(17, 30))
    assert custom == datetime(2025, 10, 9, 17, 30, tzinfo=SH).astimezone(UTC)


def test_working_days_in_natural_language() -> None:
    now = datetime(2025, 9, 30, 2, 0, tzinfo=UTC)
    assert parse_when("2个工作日内", now=now).at == datetime(2025, 10, 10, 18, 0, tzinfo=SH).astimezone(UTC)


def test_unknown_year_falls_back_to_monday_to_friday(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="timeparse.workdays"):
        assert is_working_day(date(2031, 1, 1)) is True  # a Wednesday; the holiday is unknown
        assert is_working_day(date(2031, 1, 4)) is False  # a Saturday
    assert any("2031" in record.getMessage() for record in caplog.records)
    assert add_working_days(date(2031, 1, 3), 1) == date(2031, 1, 6)
