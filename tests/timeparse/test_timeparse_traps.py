"""The known traps of reminder bots: the past, "at 16", the day boundary, DST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from timeparse import TimeParseError, parse_when

SH = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    "now",
    [
        datetime(2026, 11, 25, 2, 0, tzinfo=UTC),
        datetime(2026, 11, 25, 15, 59, 59, 999_999, tzinfo=UTC),  # a hair before midnight in Shanghai
        datetime(2026, 12, 31, 15, 59, 45, tzinfo=UTC),  # across the new year
    ],
)
def test_in_30_seconds_is_exactly_now_plus_30s(now: datetime) -> None:
    when = parse_when("in 30 seconds", now=now)
    assert when.at == now + timedelta(seconds=30)
    assert when.at > now


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError):
        parse_when("in 30 seconds", now=datetime(2026, 11, 25, 10, 0))


def test_aware_now_in_another_zone_is_accepted() -> None:
    now = datetime(2026, 11, 25, 10, 0, tzinfo=SH)
    assert parse_when("in 30 seconds", now=now).at == datetime(2026, 11, 25, 2, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("local_now", "expected_day"),
    [
        (datetime(2026, 11, 25, 10, 0), 25),  # 16:00 still ahead: today
        (datetime(2026, 11, 25, 16, 0), 26),  # exactly 16:00: the next one is tomorrow
        (datetime(2026, 11, 25, 17, 0), 26),
    ],
)
def test_at_16_is_an_hour_never_a_year(local_now: datetime, expected_day: int) -> None:
    now = local_now.replace(tzinfo=SH).astimezone(UTC)
    at = parse_when("at 16", now=now).at.astimezone(SH)
    assert (at.year, at.month, at.day, at.hour, at.minute) == (2026, 11, expected_day, 16, 0)


def test_a_year_after_at_is_never_read_as_a_future_year() -> None:
    now = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
    with pytest.raises(TimeParseError):
        parse_when("at 2016", now=now)
    for text in ("at 16", "at 16 standup", "16:00"):
        assert parse_when(text, now=now).at.year == 2026


def test_930_when_it_is_already_1000_is_tomorrow() -> None:
    now = datetime(2026, 11, 25, 10, 0, tzinfo=SH).astimezone(UTC)
    at = parse_when("9:30", now=now).at.astimezone(SH)
    assert (at.month, at.day, at.hour, at.minute) == (11, 26, 9, 30)


class TestShanghaiDayBoundary:
    """17:30 UTC on the 25th is already 01:30 on the 26th in Shanghai."""

    NOW = datetime(2026, 11, 25, 17, 30, tzinfo=UTC)

    @pytest.mark.parametrize(
        ("text", "local"),
        [
            ("明天", datetime(2026, 11, 27, 9, 0)),
            ("明天下午3点", datetime(2026, 11, 27, 15, 0)),
            ("tomorrow 9am", datetime(2026, 11, 27, 9, 0)),
            ("今晚8点", datetime(2026, 11, 26, 20, 0)),
            ("今天下班前", datetime(2026, 11, 26, 18, 0)),
            ("9:30", datetime(2026, 11, 26, 9, 30)),
            ("周五", datetime(2026, 11, 27, 9, 0)),  # the 26th is a Thursday in Shanghai
            ("后天", datetime(2026, 11, 28, 9, 0)),
            ("3天后", datetime(2026, 11, 29, 1, 30)),
        ],
    )
    def test_days_are_counted_in_shanghai(self, text: str, local: datetime) -> None:
        assert parse_when(text, now=self.NOW).at == local.replace(tzinfo=SH).astimezone(UTC)

    def test_same_instant_is_a_different_day_in_utc(self) -> None:
        # The same instant seen from a user in UTC: "tomorrow" is the 26th.
        at = parse_when("明天", now=self.NOW, tz="UTC").at
        assert at == datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


class TestNewYorkDst:
    """New York leaves daylight time at 02:00 on Sunday 2026-11-01 (EDT -4 -> EST -5)."""

    NOW = datetime(2026, 10, 31, 13, 0, tzinfo=UTC)  # Sat 31 Oct 09:00 EDT
    TZ = "America/New_York"

    def test_tomorrow_9am_is_9am_on_the_wall_clock(self) -> None:
        at = parse_when("tomorrow 9am", now=self.NOW, tz=self.TZ).at
        assert at == datetime(2026, 11, 1, 14, 0, tzinfo=UTC)  # 09:00 EST
        assert at.astimezone(NY).hour == 9

    def test_chinese_in_new_york(self) -> None:
        at = parse_when("明天上午9点", now=self.NOW, tz=self.TZ).at
        assert at == datetime(2026, 11, 1, 14, 0, tzinfo=UTC)

    def test_in_24_hours_is_exact_not_the_same_wall_time(self) -> None:
        at = parse_when("in 24 hours", now=self.NOW, tz=self.TZ).at
        assert at == self.NOW + timedelta(hours=24)
        assert at.astimezone(NY).hour == 8  # the clock went back an hour

    def test_in_1_day_keeps_the_wall_time(self) -> None:
        at = parse_when("in 1 day", now=self.NOW, tz=self.TZ).at
        assert at.astimezone(NY).replace(tzinfo=None) == datetime(2026, 11, 1, 9, 0)

    def test_ambiguous_hour_means_the_first_occurrence(self) -> None:
        at = parse_when("tomorrow 1:30am", now=self.NOW, tz=self.TZ).at
        assert at == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT

    def test_nonexistent_hour_is_pushed_forward(self) -> None:
        now = datetime(2027, 3, 13, 15, 0, tzinfo=UTC)  # clocks jump 02:00 -> 03:00 on 14 Mar
        at = parse_when("tomorrow 2:30am", now=now, tz=self.TZ).at
        assert at == datetime(2027, 3, 14, 7, 30, tzinfo=UTC)
        assert at.astimezone(NY).replace(tzinfo=None) == datetime(2027, 3, 14, 3, 30)

    def test_new_york_day_boundary(self) -> None:
        # 03:30 UTC on 1 Nov is still 31 Oct 23:30 EDT: "tomorrow" is 1 Nov.
        now = datetime(2026, 11, 1, 3, 30, tzinfo=UTC)
        at = parse_when("tomorrow 9am", now=now, tz=self.TZ).at
        assert at.astimezone(NY).replace(tzinfo=None) == datetime(2026, 11, 1, 9, 0)


def test_unknown_timezone() -> None:
    with pytest.raises(TimeParseError) as info:
        parse_when("明天", now=datetime(2026, 11, 25, tzinfo=UTC), tz="Mars/Olympus")
    assert info.value.key == "time.unknown_timezone"
    assert "Mars/Olympus" in info.value.message("zh")


def test_next_year_dates_roll_only_when_past() -> None:
    now = datetime(2026, 12, 31, 4, 0, tzinfo=UTC)  # 31 Dec 12:00 in Shanghai
    assert parse_when("1月1日", now=now).at == datetime(2027, 1, 1, 9, 0, tzinfo=SH).astimezone(UTC)
    assert parse_when("12月31日 15:00", now=now).at == datetime(2026, 12, 31, 7, 0, tzinfo=UTC)
    assert parse_when("2月29日", now=now).at == datetime(2028, 2, 29, 9, 0, tzinfo=SH).astimezone(UTC)


def test_day_of_month_skips_short_months() -> None:
    now = datetime(2027, 2, 3, 2, 0, tzinfo=UTC)  # 3 Feb 2027 in Shanghai
    assert parse_when("31号", now=now).at == datetime(2027, 3, 31, 9, 0, tzinfo=SH).astimezone(UTC)
