"""Repeat rules: parsing, next_after in the user's zone, month ends, DST, serialisation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from timeparse import Recurrence, TimeParseError, parse_recurrence, split_recurrence

SH = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # Wed 25 Nov 10:00 in Shanghai


def sh(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SH).astimezone(UTC)


@pytest.mark.parametrize(
    ("text", "zh", "en", "first"),
    [
        ("every day 9:00", "每天 09:00", "every day 09:00", sh(11, 26, 9)),
        ("daily at 11am", "每天 11:00", "every day 11:00", sh(11, 25, 11)),
        ("every monday", "每周一 09:00", "every Monday 09:00", sh(11, 30, 9)),
        ("every monday 9am", "每周一 09:00", "every Monday 09:00", sh(11, 30, 9)),
        ("every weekday 8:30", "每周一至周五 08:30", "every weekday 08:30", sh(11, 26, 8, 30)),
        ("every mon and thu at 10am", "每周一、周四 10:00", "every Monday and Thursday 10:00", sh(11, 26, 10)),
        ("every month on the 15th at 10:00", "每月15日 10:00", "every month on day 15 10:00", sh(12, 15, 10)),
        ("每天早上8点", "每天 08:00", "every day 08:00", sh(11, 26, 8)),
        ("每天下午3点", "每天 15:00", "every day 15:00", sh(11, 25, 15)),
        ("每周一上午9点", "每周一 09:00", "every Monday 09:00", sh(11, 30, 9)),
        ("每周三、五 16:00", "每周三、周五 16:00", "every Wednesday and Friday 16:00", sh(11, 25, 16)),
        ("每周一至周五 9点", "每周一至周五 09:00", "every weekday 09:00", sh(11, 26, 9)),
        ("每月1号10点", "每月1日 10:00", "every month on day 1 10:00", sh(12, 1, 10)),
        ("每月最后一天 17:00", "每月最后一天 17:00", "the last day of every month 17:00", sh(11, 30, 17)),
        ("工作日每天9点", "每个工作日 09:00", "every working day 09:00", sh(11, 26, 9)),
        ("every working day 9am", "每个工作日 09:00", "every working day 09:00", sh(11, 26, 9)),
        ("cron 0 9 * * 1-5", "按 cron 规则“0 9 * * 1-5”", "on the cron schedule “0 9 * * 1-5”", sh(11, 26, 9)),
        ("30 17 * * 5", "按 cron 规则“30 17 * * 5”", "on the cron schedule “30 17 * * 5”", sh(11, 27, 17, 30)),
    ],
)
def test_rules(text: str, zh: str, en: str, first: datetime) -> None:
    rule = parse_recurrence(text, now=NOW, tz="Asia/Shanghai")
    assert rule.describe("zh") == zh
    assert rule.describe("en") == en
    assert rule.next_after(NOW) == first
    # The stored rule rebuilds to the same schedule.
    again = Recurrence.from_rule(rule.rule, "Asia/Shanghai")
    assert again == rule
    assert again.next_after(first) == rule.next_after(first) > first


def test_nine_oclock_is_shanghai_time_not_utc() -> None:
    rule = parse_recurrence("每天9点", now=NOW, tz="Asia/Shanghai")
    at = rule.next_after(NOW)
    assert at == datetime(2026, 11, 26, 1, 0, tzinfo=UTC)
    assert at.tzinfo is UTC


def test_next_after_is_strictly_after() -> None:
    rule = parse_recurrence("every day 9:00", now=NOW)
    fire = rule.next_after(NOW)
    assert rule.next_after(fire) == fire + timedelta(days=1)
    assert rule.next_after(fire - timedelta(seconds=1)) == fire


def test_day_31_skips_short_months() -> None:
    rule = parse_recurrence("每月31号", now=NOW)
    fires = []
    at = datetime(2027, 1, 1, tzinfo=UTC)
    for _ in range(4):
        at = rule.next_after(at)
        fires.append(at.astimezone(SH).date().isoformat())
    assert fires == ["2027-01-31", "2027-03-31", "2027-05-31", "2027-07-31"]


def test_last_day_of_month_clamps() -> None:
    rule = parse_recurrence("每月最后一天 17:00", now=NOW)
    fires = []
    at = datetime(2027, 1, 1, tzinfo=UTC)
    for _ in range(3):
        at = rule.next_after(at)
        fires.append(at.astimezone(SH).replace(tzinfo=None))
    assert fires == [datetime(2027, 1, 31, 17), datetime(2027, 2, 28, 17), datetime(2027, 3, 31, 17)]


def test_daily_across_dst_in_new_york_stays_at_9_on_the_wall() -> None:
    rule = parse_recurrence("every day 9:00", now=NOW, tz="America/New_York")
    at = datetime(2026, 10, 30, 14, 0, tzinfo=UTC)  # Fri 10:00 EDT
    fires = []
    for _ in range(3):
        at = rule.next_after(at)
        fires.append(at)
    assert fires == [
        datetime(2026, 10, 31, 13, 0, tzinfo=UTC),  # 09:00 EDT
        datetime(2026, 11, 1, 14, 0, tzinfo=UTC),  # 09:00 EST
        datetime(2026, 11, 2, 14, 0, tzinfo=UTC),
    ]


def test_cron_across_dst_in_new_york() -> None:
    rule = parse_recurrence("cron 0 9 * * *", now=NOW, tz="America/New_York")
    assert rule.next_after(datetime(2026, 10, 31, 14, 0, tzinfo=UTC)) == datetime(2026, 11, 1, 14, 0, tzinfo=UTC)


def test_repeated_hour_fires_once() -> None:
    # 01:30 happens twice on 1 Nov in New York; the rule fires at the first one only.
    rule = parse_recurrence("every day 1:30am", now=NOW, tz="America/New_York")
    first = rule.next_after(datetime(2026, 11, 1, 4, 0, tzinfo=UTC))
    assert first == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT
    assert rule.next_after(first) == datetime(2026, 11, 2, 6, 30, tzinfo=UTC)  # 01:30 EST next day


def test_fixed_interval_is_exact_across_dst() -> None:
    now = datetime(2026, 11, 1, 4, 0, tzinfo=UTC)  # 00:00 EDT
    rule = parse_recurrence("every 2 hours", now=now, tz="America/New_York")
    assert rule.describe("en") == "every 2 hours"
    first = rule.next_after(now)
    second = rule.next_after(first)
    assert (first, second - first) == (now + timedelta(hours=2), timedelta(hours=2))
    assert Recurrence.from_rule(rule.rule, "America/New_York").next_after(first) == second


def test_working_days_skip_national_day_and_include_makeup_days() -> None:
    rule = parse_recurrence("工作日每天9点", now=NOW)
    at = datetime(2025, 9, 26, 2, 0, tzinfo=UTC)  # Fri 26 Sep 2025 10:00
    days = []
    for _ in range(4):
        at = rule.next_after(at)
        days.append(at.astimezone(SH).date().isoformat())
    # Sun 28 Sep is a make-up workday; 1-8 Oct are holidays.
    assert days == ["2025-09-28", "2025-09-29", "2025-09-30", "2025-10-09"]


def test_weekday_rule_is_plain_monday_to_friday() -> None:
    rule = parse_recurrence("every weekday 9am", now=NOW)
    at = rule.next_after(datetime(2025, 9, 30, 2, 0, tzinfo=UTC))
    assert at.astimezone(SH).date().isoformat() == "2025-10-01"  # a holiday, but a weekday


def test_split_recurrence_returns_the_rest() -> None:
    found = split_recurrence("每周一上午9点 交周报", now=NOW)
    assert found is not None
    rule, rest = found
    assert rule.describe("zh") == "每周一 09:00"
    assert rest == "交周报"
    found = split_recurrence("every monday and thursday at 10am standup", now=NOW)
    assert found is not None and found[1] == "standup"
    found = split_recurrence("0 9 * * 1-5 打卡", now=NOW)
    assert found is not None and found[0].rule == "CRON:0 9 * * 1-5" and found[1] == "打卡"


def test_split_recurrence_without_a_rule_is_none() -> None:
    assert split_recurrence("明天下午3点 开会", now=NOW) is None
    assert split_recurrence("tomorrow 9am", now=NOW) is None


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("every blue moon", "time.unparsed_recurrence"),
        ("每周", "time.unparsed_recurrence"),
        ("cron 0 25 * * *", "time.bad_cron"),
        ("每月32号", "time.invalid_date"),
        ("every day 9:00 extra words", "time.unparsed_recurrence"),
    ],
)
def test_bad_rules(text: str, key: str) -> None:
    with pytest.raises(TimeParseError) as info:
        parse_recurrence(text, now=NOW)
    assert info.value.key == key


@pytest.mark.parametrize("rule", ["RRULE:FREQ=SOMETIMES", "CRON:0 9 * *", "WORKDAYS:25:00", "nonsense"])
def test_from_rule_refuses_broken_rules(rule: str) -> None:
    with pytest.raises(TimeParseError) as info:
        Recurrence.from_rule(rule, "Asia/Shanghai")
    assert info.value.key == "time.bad_rule"
