"""Reading `!task new …`: title, lead, co-owners, deadline (incl. working days), source, priority."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from commands.tasks.parsing import parse_new_task, parse_percent
from records.errors import DomainError

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
TZ = "Asia/Shanghai"


def test_full_chinese_form() -> None:
    spec = parse_new_task("整理会议纪要 @chu:x @li:x 截止 周五前 来源 M3 紧急", now=NOW, tz=TZ)
    assert (spec.title, spec.lead, spec.co_owners) == ("整理会议纪要", "@chu:x", ["@li:x"])
    assert spec.due_at == datetime(2026, 11, 27, 10, 0, tzinfo=UTC)  # Friday 18:00 local
    assert (spec.source, spec.priority) == ("M3", "high")


def test_english_by_is_a_deadline_and_free_text_source() -> None:
    spec = parse_new_task('Write minutes @a-1-b:x by friday from "the leader" !high', now=NOW, tz=TZ)
    assert spec.lead == "@a-1-b:x" and spec.title == "Write minutes"
    assert spec.due_at == datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    assert (spec.source, spec.priority) == ("the leader", "high")


def test_working_days_skip_the_weekend_and_holidays() -> None:
    # Friday 2026-09-25 + 3 working days: Mon 28, Tue 29, Wed 30 Sep (National Day starts 1 Oct).
    friday = datetime(2026, 9, 25, 2, 0, tzinfo=UTC)
    spec = parse_new_task("报送材料 @a:x 截止 3个工作日", now=friday, tz=TZ)
    assert spec.due_at.astimezone(ZoneInfo(TZ)).date().isoformat() == "2026-09-30"
    english = parse_new_task("send @a:x by 3 working days", now=friday, tz=TZ)
    assert english.due_at == spec.due_at


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("整理纪要 截止 周五", "task.no_lead"),
        ("整理纪要 @a:x", "task.no_due"),
        ("@a:x 截止 周五", "task.no_title"),
        ("整理纪要 @a:x 截止 某个时候", "time.unparsed"),
    ],
)
def test_mistakes_are_named(text: str, key: str) -> None:
    with pytest.raises(DomainError) as err:
        parse_new_task(text, now=NOW, tz=TZ)
    assert err.value.key == key


def test_percent() -> None:
    assert parse_percent("60% 初稿完成") == (60, "初稿完成")
    assert parse_percent("150%")[0] == 150  # the range is the service's to refuse
    with pytest.raises(DomainError) as err:
        parse_percent("一半")
    assert err.value.key == "task.bad_percent"
