"""Reading !duty set spans and people, report fields, grades and classes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from emergency.grammar import GrammarError, parse_report_fields, parse_span, split_people
from emergency.policy import Policy, ResponderRule, parse_category, parse_grade

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def span(text: str) -> tuple[datetime, datetime]:
    return parse_span(text, now=NOW, tz="Asia/Shanghai", shift_start="08:30")


def test_a_date_is_a_day_long_shift_from_the_shift_start() -> None:
    assert span("明天") == (datetime(2026, 11, 26, 0, 30, tzinfo=UTC), datetime(2026, 11, 27, 0, 30, tzinfo=UTC))
    assert span("2026-11-26")[0] == datetime(2026, 11, 26, 0, 30, tzinfo=UTC)
    assert span("今天")[0] == datetime(2026, 11, 25, 0, 30, tzinfo=UTC)  # already begun: still allowed


def test_explicit_spans_including_overnight() -> None:
    start, end = span("今天18:00 - 次日8:00")
    assert (start, end) == (datetime(2026, 11, 25, 10, 0, tzinfo=UTC), datetime(2026, 11, 26, 0, 0, tzinfo=UTC))
    start, end = span("tomorrow 9am to 5pm")
    assert end - start == timedelta(hours=8)


def test_people_keywords_do_not_match_inside_user_ids() -> None:
    assert split_people("明天 带班 @leader-1:x 值班员 @officer-2:x @b:x") == (
        "明天",
        "@leader-1:x",
        ["@officer-2:x", "@b:x"],
    )
    with pytest.raises(GrammarError):
        split_people("明天 @a:x")


def test_report_fields_in_both_languages() -> None:
    assert parse_report_fields("地点：城东区 影响: 道路中断 casualties: none reporter: 李四 138") == {
        "place": "城东区",
        "impact": "道路中断",
        "casualties": "none",
        "reporter": "李四 138",
    }


def test_grades_classes_and_responders() -> None:
    assert [parse_grade(w) for w in ("Ⅱ", "ii", "2", "二级", "重大", "9")] == [2, 2, 2, 2, 2, None]
    assert parse_category("natural") == "自然灾害" and parse_category("火星") is None
    policy = Policy(
        first_minutes={1: 10},
        responders=(ResponderRule(("自然灾害",), (1, 2), ("@fire:x",)), ResponderRule((), (1,), ("@boss:x",))),
    )
    assert policy.first_for(1) == 10 and policy.first_for(3) == 60  # a missing grade keeps its default
    assert policy.responders_for("自然灾害", 1) == ["@fire:x", "@boss:x"]
    assert policy.responders_for("自然灾害", 3) == []
    assert policy.responders_for("社会安全", 2) == []
