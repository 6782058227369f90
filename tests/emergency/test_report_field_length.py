"""Report fields are kept whole: what a reporter wrote is filed as written, or refused with the limit.

Answers used to be cut at 2,000 characters without a word. A report is posted as one message,
so its fields together may take one message's worth (matrix.max_message_chars); an answer that
does not fit is refused, and the question stands.
"""

from __future__ import annotations

from sqlalchemy import select

from emergency.models import Report
from records.clock import FrozenClock
from records.db import Database
from tests.emergency.test_emergency_chat import INCIDENT_ROOM, OFFICER, T0, Chat, _open_incident

NATURE = "暴雨导致城东区大面积积水，" * 231  # 3,003 characters
MEASURES = "已封闭和平路并疏散周边群众。" * 430  # 6,020 characters


async def _filed(db: Database) -> Report:
    async with db.reading() as session:
        report = await session.scalar(select(Report))
    assert report is not None
    return report


async def test_a_3000_character_answer_is_filed_whole(db: Database) -> None:
    clock = FrozenClock(T0)
    chat = Chat(db, clock)
    await _open_incident(db, clock)
    start = await chat.reply_to(OFFICER, "!报告 首报 事发时间: 今天9:30 地点: 和平路", INCIDENT_ROOM)
    assert "【事件类别和性质】" in start
    assert "【影响范围】" in await chat.reply_to(OFFICER, NATURE, INCIDENT_ROOM)
    for _ in range(4):
        await chat.reply_to(OFFICER, "跳过", INCIDENT_ROOM)
    filed = await chat.reply_to(OFFICER, "李四 13800000000", INCIDENT_ROOM)
    assert "已报送首报" in filed and NATURE in filed
    assert (await _filed(db)).fields["nature"] == NATURE


async def test_an_answer_the_report_cannot_hold_is_refused_with_the_limit_and_the_question_stands(
    db: Database,
) -> None:
    clock = FrozenClock(T0)
    chat = Chat(db, clock)
    await _open_incident(db, clock)
    await chat.reply_to(OFFICER, "!报告 首报 事发时间: 今天9:30 地点: 和平路 性质: 内涝 影响: 道路中断", INCIDENT_ROOM)
    assert "【已采取的措施】" in await chat.reply_to(OFFICER, "无人员伤亡", INCIDENT_ROOM)
    assert "【需求和请求】" in await chat.reply_to(OFFICER, MEASURES, INCIDENT_ROOM)
    # 3,003 more characters do not fit in the 8,000 a report may take: refused, with the numbers.
    refused = await chat.reply_to(OFFICER, NATURE, INCIDENT_ROOM)
    assert "3003" in refused and "8000" in refused and "未记录" in refused
    # Nothing of it was kept, and the question is still the needs.
    assert "【报告人及联系方式】" in await chat.reply_to(OFFICER, "请求增派排水车", INCIDENT_ROOM)
    filed = await chat.reply_to(OFFICER, "李四 13800000000", INCIDENT_ROOM)
    assert "已报送首报" in filed
    fields = (await _filed(db)).fields
    assert fields["measures"] == MEASURES and fields["needs"] == "请求增派排水车"
    assert NATURE not in filed
