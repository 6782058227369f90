"""Quiet-hours windows (across midnight, in the person's zone, across DST) and payload sizing."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from notifications.models import Notice
from notifications.notice import NoticeSpec, topic_header
from notifications.payload import render
from notifications.quiet import is_quiet, parse_quiet_hours
from notifications.webpush import MAX_PLAINTEXT


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("22:00-07:00", "22:00-07:00"),
        ("22-7", "22:00-07:00"),
        ("22：30～6：15", "22:30-06:15"),
        ("12点到14点", "12:00-14:00"),
    ],
)
def test_parse(text: str, expected: str) -> None:
    assert str(parse_quiet_hours(text)) == expected


@pytest.mark.parametrize("text", ["", "22:00", "25:00-07:00", "22:61-07:00", "7-7", "22:00-07:00-09:00"])
def test_parse_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_quiet_hours(text)


@pytest.mark.parametrize(
    ("utc", "tz", "quiet"),
    [
        (datetime(2026, 3, 2, 14, 0, tzinfo=UTC), "Asia/Shanghai", True),  # 22:00 local: starts
        (datetime(2026, 3, 2, 13, 59, tzinfo=UTC), "Asia/Shanghai", False),
        (datetime(2026, 3, 2, 22, 59, tzinfo=UTC), "Asia/Shanghai", True),  # 06:59
        (datetime(2026, 3, 2, 23, 0, tzinfo=UTC), "Asia/Shanghai", False),  # 07:00: ends
        # London on the night the clocks go forward: 06:30 BST is 05:30 UTC.
        (datetime(2026, 3, 29, 5, 30, tzinfo=UTC), "Europe/London", True),
        (datetime(2026, 3, 29, 6, 30, tzinfo=UTC), "Europe/London", False),
    ],
)
def test_is_quiet_in_local_time(utc: datetime, tz: str, quiet: bool) -> None:
    assert is_quiet("22:00-07:00", tz, utc) is quiet


def test_unreadable_or_missing_windows_are_not_quiet() -> None:
    now = datetime(2026, 3, 2, 16, 0, tzinfo=UTC)
    assert not is_quiet(None, "Asia/Shanghai", now)
    assert not is_quiet("garbage", "Asia/Shanghai", now)
    assert not is_quiet("22:00-07:00", "Not/AZone", now)


def test_long_body_is_cut_to_fit_one_push() -> None:
    notice = Notice(
        id=1,
        kind="order",
        title={"*": "指令"},
        body={"*": "很长的指令内容" * 2000},
        sensitive=False,
        url="/o/1",
        created_at=datetime(2026, 3, 2, tzinfo=UTC),
    )
    raw = render(notice, "zh", topic=None)
    assert len(raw) <= MAX_PLAINTEXT
    data = json.loads(raw)
    assert data["body"].endswith("…") and data["title"] == "指令"


def test_topics_fit_rfc8030_and_are_stable() -> None:
    assert topic_header("zhiban-test") == "zhiban-test"
    long = topic_header("approval:A12 关于防汛物资采购")
    assert long is not None and len(long) <= 32 and long == topic_header("approval:A12 关于防汛物资采购")
    assert topic_header(None) is None


def test_unknown_kind_or_dm_policy_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        NoticeSpec(kind="gossip", title="x")
    with pytest.raises(ValueError):
        NoticeSpec(kind="alert", title="x", dm="sometimes")
