"""Chinese time expressions, with a fixed clock: Wednesday 2026-11-25 10:00 in Shanghai."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from timeparse import ParseOptions, TimeParseError, parse_when

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # Wed 25 Nov 10:00 in Shanghai


def sh(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SH).astimezone(UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("明天下午3点", sh(11, 26, 15)),
        ("明早9点", sh(11, 26, 9)),
        ("明早", sh(11, 26, 8)),
        ("今晚8点半", sh(11, 25, 20, 30)),
        ("今晚", sh(11, 25, 20)),
        ("后天上午10点", sh(11, 27, 10)),
        ("大后天", sh(11, 28, 9)),
        ("下周一上午", sh(11, 30, 9)),
        ("下周一", sh(11, 30, 9)),
        ("下个星期三下午两点", sh(12, 2, 14)),
        ("下下周一", sh(12, 7, 9)),
        ("周五前", sh(11, 27, 18)),
        ("周五之前", sh(11, 27, 18)),
        ("周五下午3点前", sh(11, 27, 15)),
        ("本周五", sh(11, 27, 9)),
        ("这周日", sh(11, 29, 9)),
        ("周一", sh(11, 30, 9)),  # the next Monday to come
        ("周三下午", sh(11, 25, 14)),  # today is Wednesday and 14:00 is still ahead
        ("周三上午9点", sh(12, 2, 9)),  # today's 09:00 has passed: next Wednesday
        ("星期天", sh(11, 29, 9)),
        ("礼拜五十点", sh(11, 27, 10)),
        ("3天后", sh(11, 28, 10)),  # keeps the current wall-clock time
        ("三天后", sh(11, 28, 10)),
        ("3天后下午3点", sh(11, 28, 15)),
        ("两周后", sh(12, 9, 10)),
        ("1个月后", sh(12, 25, 10)),
        ("2小时后", sh(11, 25, 12)),
        ("两个小时后", sh(11, 25, 12)),
        ("半小时后", sh(11, 25, 10, 30)),
        ("半个小时以后", sh(11, 25, 10, 30)),
        ("一个半小时后", sh(11, 25, 11, 30)),
        ("30分钟后", sh(11, 25, 10, 30)),
        ("十分钟后", sh(11, 25, 10, 10)),
        ("二十分钟之后", sh(11, 25, 10, 20)),
        ("11月30日 14:00", sh(11, 30, 14)),
        ("十一月三十日下午两点", sh(11, 30, 14)),
        ("11月30日（周一）14:00", sh(11, 30, 14)),
        ("12月1日下午", sh(12, 1, 14)),
        ("12月1号", sh(12, 1, 9)),
        ("12-01 09:30", sh(12, 1, 9, 30)),
        ("2026年12月1日 10:00", sh(12, 1, 10)),
        ("2027-01-05 08:00", sh(1, 5, 8, year=2027)),
        ("1月5日", sh(1, 5, 9, year=2027)),  # already past this year: next year
        ("30号", sh(11, 30, 9)),
        ("9:30", sh(11, 26, 9, 30)),  # 09:30 today has passed (it is 10:00)
        ("10:30", sh(11, 25, 10, 30)),
        ("１０：４５", sh(11, 25, 10, 45)),  # full-width digits and colon
        ("下午3点", sh(11, 25, 15)),
        ("下午3点15分", sh(11, 25, 15, 15)),
        ("下午三点一刻", sh(11, 25, 15, 15)),
        ("三点二十", sh(11, 25, 15, 20)),
        ("3点", sh(11, 25, 15)),  # a bare office hour 1-6 is the afternoon
        ("凌晨3点", sh(11, 26, 3)),
        ("晚上12点", sh(11, 26, 0)),
        ("中午", sh(11, 25, 12)),
        ("中午1点", sh(11, 25, 13)),
        ("上午11点", sh(11, 25, 11)),
        ("今天下班前", sh(11, 25, 18)),
        ("下班前", sh(11, 25, 18)),
        ("明天下班前", sh(11, 26, 18)),
        ("3个工作日内", sh(11, 30, 18)),  # Thu, Fri, (weekend), Mon
        ("在明天上午", sh(11, 26, 9)),
        ("月底前", sh(11, 30, 18)),
        ("下个月底前", sh(12, 31, 18)),
        ("月底下午3点", sh(11, 30, 15)),
        ("年底前", sh(12, 31, 18)),
        ("明年底", sh(12, 31, 18, year=2027)),
    ],
)
def test_chinese_expressions(text: str, expected: datetime) -> None:
    when = parse_when(text, now=NOW)
    assert when.at == expected
    assert when.at.tzinfo is UTC
    assert when.rest == ""


@pytest.mark.parametrize(
    ("text", "matched", "rest"),
    [
        ("明天下午3点 交材料", "明天下午3点", "交材料"),
        ("明天下午3点交材料", "明天下午3点", "交材料"),
        ("明天下午三点交材料", "明天下午三点", "交材料"),
        ("周五前：报送总结", "周五前", "报送总结"),
        ("3天后，提交方案", "3天后", "提交方案"),
        ("明天晚会彩排", "明天", "晚会彩排"),  # 晚 alone is not 晚上 unless a clock time follows
        ("周五 9:30 开会", "周五 9:30", "开会"),
        ("  下周一上午  部务会", "下周一上午", "部务会"),
        ("十分钟后 关火", "十分钟后", "关火"),
    ],
)
def test_chinese_rest_is_the_message(text: str, matched: str, rest: str) -> None:
    when = parse_when(text, now=NOW)
    assert when.matched == matched
    assert when.rest == rest


def test_end_of_day_is_configurable() -> None:
    options = ParseOptions(end_of_day=time(17, 30))
    assert parse_when("今天下班前", now=NOW, options=options).at == sh(11, 25, 17, 30)
    assert parse_when("周五前", now=NOW, options=options).at == sh(11, 27, 17, 30)


def test_default_time_is_configurable() -> None:
    options = ParseOptions(default_time=time(8, 30))
    assert parse_when("下周一", now=NOW, options=options).at == sh(11, 30, 8, 30)


def test_bare_hours_can_be_read_literally() -> None:
    options = ParseOptions(pm_hours=frozenset())
    assert parse_when("3点", now=NOW, options=options).at == sh(11, 26, 3)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("今天上午9点", "time.in_past"),  # explicitly today, and 09:00 has passed
        ("今晨", "time.in_past"),
        ("2025年12月1日", "time.in_past"),
        ("2月30日", "time.invalid_date"),
        ("25点", "time.invalid_clock"),
        ("开会", "time.unparsed"),
        ("", "time.empty"),
    ],
)
def test_chinese_errors(text: str, key: str) -> None:
    with pytest.raises(TimeParseError) as info:
        parse_when(text, now=NOW)
    assert info.value.key == key


def test_error_messages_are_bilingual() -> None:
    with pytest.raises(TimeParseError) as info:
        parse_when("随便什么时候", now=NOW)
    assert "没能理解时间“随便什么时候”" in info.value.message("zh")
    assert "明天下午3点" in info.value.message("zh")
    assert "Could not understand" in info.value.message("en")
    with pytest.raises(TimeParseError) as past:
        parse_when("今天上午9点", now=NOW)
    assert "已经过去" in past.value.message("zh")
    assert "in the past" in past.value.message("en")


def test_prefer_future_false_allows_the_past() -> None:
    # For recording when something happened (the time field of a report).
    when = parse_when("今天上午9点", now=NOW, prefer_future=False)
    assert when.at == sh(11, 25, 9)
    assert parse_when("9:30", now=NOW, prefer_future=False).at == sh(11, 25, 9, 30)


def test_month_end_rolls_to_next_month_once_past() -> None:
    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)  # 30 Nov 20:00 in Shanghai, after 18:00
    assert parse_when("月底前", now=now).at == sh(12, 31, 18)
