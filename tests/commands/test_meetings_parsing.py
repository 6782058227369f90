"""Finding the time inside `!meeting new <title> <when> [at <place>] @…`."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from commands.meetings.parsing import parse_action, parse_new_meeting
from records.errors import DomainError
from timeparse import TimeParseError

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # Wed 25 Nov 2026, 10:00 in Shanghai


def _parse(text: str):  # type: ignore[no-untyped-def]
    return parse_new_meeting(text, now=NOW, tz="Asia/Shanghai")


def test_chinese_title_time_place_and_attendees() -> None:
    d = _parse("防汛会商 明天下午3点 at 三楼会议室 @a:x @b:x")
    assert (d.title, d.when_text, d.place, d.attendees) == ("防汛会商", "明天下午3点", "三楼会议室", ["@a:x", "@b:x"])
    assert d.starts_at == datetime(2026, 11, 26, 7, 0, tzinfo=UTC)


def test_weekday_and_clock_with_zai() -> None:
    d = _parse("安全生产工作会议 周五 9:30 在 301 @a:x")
    assert (d.title, d.place, d.attendees) == ("安全生产工作会议", "301", ["@a:x"])
    assert d.starts_at == datetime(2026, 11, 27, 1, 30, tzinfo=UTC)


def test_english() -> None:
    d = _parse("Budget review tomorrow 3pm at Room 301 @bob:localhost")
    assert (d.title, d.place) == ("Budget review", "Room 301")
    assert d.starts_at == datetime(2026, 11, 26, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("周五例会 周五 9:30", "周五例会"),
        ("学习3号文件 明天 10点", "学习3号文件"),
        ("防汛会商明天下午3点 在 三楼", "防汛会商"),
    ],
)
def test_time_words_glued_to_the_title_stay_in_it(text: str, title: str) -> None:
    d = _parse(text)
    assert d.title == title and d.starts_at is not None


def test_missing_time_leaves_it_for_the_wizard() -> None:
    d = _parse("安全会议 在 301 @a:x")
    assert (d.title, d.starts_at, d.place, d.attendees) == ("安全会议", None, "301", ["@a:x"])


def test_past_and_impossible_times_are_errors() -> None:
    with pytest.raises(TimeParseError) as past:
        _parse("周会 yesterday 3pm")
    assert past.value.key == "time.in_past"
    with pytest.raises(TimeParseError) as invalid:
        _parse("周会 2月30日 9点")
    assert invalid.value.key == "time.invalid_date"


def test_action_item() -> None:
    who, task, due = parse_action("@chu:x 报送汛情简报 截止 周五 18:00", now=NOW, tz="Asia/Shanghai")
    assert (who, task, due) == ("@chu:x", "报送汛情简报", datetime(2026, 11, 27, 10, 0, tzinfo=UTC))
    who, task, _ = parse_action("@chu:x send the brief by friday", now=NOW, tz="Asia/Shanghai")
    assert (who, task) == ("@chu:x", "send the brief")
    with pytest.raises(DomainError):
        parse_action("@chu:x no deadline here", now=NOW, tz="Asia/Shanghai")
