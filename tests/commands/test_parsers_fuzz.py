"""Every parser of chat text, on arbitrary text: only its own user errors may come out.

The text is built from the pieces the grammars look for (digits, Chinese numerals, 个工作日,
天后, 每, mentions, > | &, huge numbers, blanks) and plain noise, up to the 8,000 characters
a chat message may have. Anything else escaping (OverflowError, IsADirectoryError, a
RecursionError…) would reach the user as "something went wrong".
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.errors import UserFacingError
from commands.approvals.chain import parse_chain, split_title_chain
from commands.meetings.parsing import parse_action, parse_new_meeting, parse_when_reply
from commands.tasks.parsing import parse_new_task, parse_percent
from emergency.grammar import GrammarError, parse_report_fields, parse_span, split_people
from emergency.policy import parse_category, parse_grade
from emergency.roster import parse_log_text, parse_roster_csv
from records.errors import DomainError
from timeparse import TimeParseError, get_zone, parse_recurrence, parse_when, split_recurrence, workdays
from timeparse.workdays import add_working_days

NOW = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)
TZ = "Asia/Shanghai"
USER_ERRORS = (UserFacingError, DomainError, TimeParseError, GrammarError)

PIECES = [
    "1", "3", "12", "99", "2026", "9999", "999999999", "1" * 30, "0.5", "1.5", "一", "三", "十", "两", "百",
    "二〇二六", "九千九百九十九", "个工作日", "工作日", "个", "天后", "天", "小时后", "分钟", "周", "星期",
    "月", "年", "日", "号", "点", "半", "刻", ":", "：", "/", "-", "--", "~", "至", "到", "前", "内", "之后", "每",
    "每天", "每周一", "每月", "cron", "*", "明天", "后天", "下周五", "上午", "下午", "晚上", "凌晨", "下班前",
    "年底", "月底", "次日", "@a:x", "@lead:localhost", "@", ">", "|", "&", "＞", "→", "抄送", "cc",
    "in", "at", "by", "every", "day", "days", "hours", "minutes", "weeks", "months", "tomorrow", "next",
    "monday", "Dec", "December", "1st", "am", "pm", "noon", "from", "now", "later", "working days",
    "T7", "截止", "带班", "值班员", "leader", "officers", "地点:", "时间：", "影响:", "来源:", "电话:", "已告知:",
    "！high", "紧急", "%", "50%", "Ⅱ", "二级", "重大", "natural", " ", "  ", "\n", "\t", ",", "，", "、", "x", "会",
]  # fmt: skip
_piece = st.one_of(st.sampled_from(PIECES), st.text(max_size=4))
TEXT = st.one_of(
    st.lists(_piece, max_size=40).map("".join),
    st.lists(_piece, max_size=3).flatmap(lambda parts: st.integers(1, 2000).map(lambda n: "".join(parts) * n)),
    st.text(max_size=200),
).map(lambda s: s[:8000])
FUZZ = settings(
    max_examples=int(os.environ.get("ZHIBAN_FUZZ_EXAMPLES", "100")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@pytest.fixture(autouse=True, scope="module")
def _quiet() -> Any:
    # Years without holiday data log a warning once each: noise here, and the years warned
    # about here must still be warned about in the tests that check that warning.
    warned = set(workdays._warned_years)
    logging.disable(logging.WARNING)
    yield
    logging.disable(logging.NOTSET)
    workdays._warned_years.clear()
    workdays._warned_years.update(warned)


def _only_user_errors(fn: Callable[[], object]) -> None:
    try:
        fn()
    except USER_ERRORS:
        pass


@FUZZ
@given(TEXT, st.booleans())
def test_parse_when(text: str, prefer_future: bool) -> None:
    _only_user_errors(lambda: parse_when(text, now=NOW, tz=TZ, prefer_future=prefer_future))


@FUZZ
@given(TEXT)
def test_recurrence(text: str) -> None:
    def run() -> None:
        found = split_recurrence(text, now=NOW, tz=TZ)
        if found is not None:
            found[0].next_after(NOW)
            found[0].describe("en")
        parse_recurrence(text, now=NOW, tz=TZ)

    _only_user_errors(run)


@FUZZ
@given(st.one_of(TEXT, st.sampled_from(["Asia", "Asia/", "/etc", "..", "A" * 300, "Etc/GMT+5", "UTC"])))
def test_zones(name: str) -> None:
    _only_user_errors(lambda: get_zone(name))


@FUZZ
@given(st.integers(-(10**12), 10**12))
def test_working_days(n: int) -> None:
    _only_user_errors(lambda: add_working_days(date(2026, 12, 3), n))


@FUZZ
@given(TEXT)
def test_meetings(text: str) -> None:
    _only_user_errors(lambda: parse_new_meeting(text, now=NOW, tz=TZ))
    _only_user_errors(lambda: parse_when_reply(text, now=NOW, tz=TZ))
    _only_user_errors(lambda: parse_action(text, now=NOW, tz=TZ))


@FUZZ
@given(TEXT)
def test_tasks(text: str) -> None:
    _only_user_errors(lambda: parse_new_task(text, now=NOW, tz=TZ))
    _only_user_errors(lambda: parse_percent(text))


@FUZZ
@given(TEXT)
def test_approval_chain(text: str) -> None:
    _only_user_errors(lambda: split_title_chain(text))
    _only_user_errors(lambda: parse_chain(text))


@FUZZ
@given(TEXT)
def test_emergency_grammar(text: str) -> None:
    _only_user_errors(lambda: split_people(text))
    _only_user_errors(lambda: parse_span(text, now=NOW, tz=TZ, shift_start="08:30"))
    _only_user_errors(lambda: parse_report_fields(text))
    _only_user_errors(lambda: parse_grade(text))
    _only_user_errors(lambda: parse_category(text))


@FUZZ
@given(TEXT)
def test_roster_and_log(text: str) -> None:
    _only_user_errors(lambda: parse_log_text(text))
    _only_user_errors(lambda: parse_roster_csv(text, tz=TZ, default_server="localhost"))
    rows = "date,start,end,leader,officers\n" + text
    parsed = parse_roster_csv(rows, tz=TZ, default_server="localhost", today=NOW.date())
    assert all(error.line >= 2 for error in parsed.errors)


CSV_CELL = st.one_of(
    st.sampled_from(
        ["9999-12-31", "0001-01-01", "2026-11-26", "2026-02-30", "08:30", "24:00", "08:30:00+05:00", "23:59:59.999999"]
    ),
    st.text(max_size=12),
)


@FUZZ
@given(st.lists(st.lists(CSV_CELL, min_size=5, max_size=6), max_size=20))
def test_roster_rows(rows: list[list[str]]) -> None:
    text = "date,start,end,leader,officers,note\n" + "\n".join(",".join(c.replace(",", " ") for c in r) for r in rows)
    parsed = parse_roster_csv(text, tz=TZ, default_server="localhost", today=NOW.date())
    for row in parsed.rows:
        assert row.starts_at < row.ends_at
