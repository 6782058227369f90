"""What people read in the emergency feature is said in their words, not the program's: counts
in natural English ("1 person"), 值班助手 instead of the internal actor, full-width colons in
Chinese fields, and the final report's file named in the incident's language.

Through the real application wiring (tests.emergency.test_emergency_chat's Chat), reading the
texts the bot would send.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from emergency import final_report, incidents, reports
from emergency.models import Incident
from emergency.texts import tr
from records.clock import FrozenClock
from records.db import Database
from tests.emergency.test_emergency_chat import (
    INCIDENT_ROOM,
    LEADER,
    OFFICER,
    ROOM,
    T0,
    Chat,
    FakeClient,
    _open_incident,
)


class UploadingClient(FakeClient):
    """Takes uploads (as the homeserver's media repository would) and remembers their names."""

    def __init__(self) -> None:
        self.uploaded: list[str] = []

    async def upload(self, data: bytes, *, content_type: str, filename: str) -> str:
        self.uploaded.append(filename)
        return "mxc://localhost/final"


async def _alert_reply(chat: Chat, body: str) -> str:
    """The sender's answer to an alert (the order card goes to the same room, as a card)."""
    sent = await chat.say(LEADER, body)
    answers = [r for r in sent if r.room_id == ROOM and not r.relation and not (r.ref or "").startswith("card:")]
    [reply] = [str(r.content["body"]) for r in answers]
    return reply


async def test_an_alert_reply_counts_people_as_people_say_it(db: Database) -> None:
    chat = Chat(db, FrozenClock(T0))
    assert await _alert_reply(chat, "!警报 台风预警，全员待命") == "🚨 紧急通知 O1 已通知 3 人，等待确认。"
    await chat.say(LEADER, "!语言 en")
    en = await _alert_reply(chat, "!alert typhoon warning")
    assert en == "🚨 Alert O2 sent to 3 people; awaiting acknowledgements."
    # One recipient is one person, never "1 people".
    assert tr("em.alert.sent", "en", id="O3", count=1) == "🚨 Alert O3 sent to 1 person; awaiting the acknowledgement."
    assert tr("em.alert.sent", "zh", id="O3", count=1) == "🚨 紧急通知 O3 已通知 1 人，等待确认。"


async def test_the_timeline_names_zhiban_as_the_duty_assistant_not_its_internal_id(db: Database) -> None:
    clock = FrozenClock(T0)
    chat = Chat(db, clock)
    await _open_incident(db, clock)
    clock.advance(timedelta(minutes=31))  # the 首报 deadline passes: Zhiban escalates, on the timeline
    await chat.pump()
    timeline = await chat.reply_to(OFFICER, "!时间线", INCIDENT_ROOM)
    assert "zhiban" not in timeline, timeline
    assert "· 值班助手 · 首报到时未报，已上报带班领导" in timeline, timeline


async def _file_first_report(db: Database, clock: FrozenClock) -> None:
    async with db.transaction() as session:
        incident = await incidents.get(session, 1)
        await reports.file_report(
            session,
            incident,
            kind="first",
            fields={"place": "和平路", "impact": "道路中断"},
            actor=OFFICER,
            clock=clock,
        )


async def test_report_fields_and_the_final_report_use_full_width_colons(db: Database) -> None:
    clock = FrozenClock(T0)
    await _open_incident(db, clock)
    await _file_first_report(db, clock)
    async with db.transaction() as session:
        incident = await session.scalar(select(Incident))
        assert incident is not None
        markdown = await final_report.build_markdown(session, incident)
    assert "- 报告时间：" in markdown and "- 事发地点：和平路" in markdown and "- 报送人：" in markdown, markdown
    assert "报告时间: " not in markdown and "事发地点: " not in markdown, markdown


async def test_the_final_report_file_is_named_in_the_incidents_language(db: Database) -> None:
    clock = FrozenClock(T0)
    chat = Chat(db, clock)
    client = UploadingClient()
    chat.dispatcher.context["client"] = client
    await _open_incident(db, clock)
    sent = await chat.say(LEADER, "!应急 关闭", INCIDENT_ROOM)
    files: list[dict[str, Any]] = [dict(r.content) for r in sent if r.content.get("msgtype") == "m.file"]
    assert client.uploaded == ["E1 终报：城东内涝.docx"]
    assert [f["body"] for f in files] == ["E1 终报：城东内涝.docx"]
    async with db.transaction() as session:
        incident = await session.scalar(select(Incident))
        assert incident is not None
        incident.lang, incident.title = "en", "Flooding / east district"
        assert final_report.file_name(incident) == "E1 final report - Flooding   east district.docx"


async def test_an_english_count_of_one_reads_in_the_singular() -> None:
    assert tr("em.csv.imported", "en", count=1) == "✅ Imported 1 shift."
    assert tr("em.csv.imported", "en", count=4) == "✅ Imported 4 shifts."
    assert tr("em.csv.imported", "zh", count=1) == "✅ 已导入 1 个班次。"
