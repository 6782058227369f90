"""What duty staff see must be true, through the real dispatcher on SQLite and PostgreSQL.

- A declaration without a class is made at once, and says that the responders configured by
  class were not invited and how to bring them (`!应急 类别 E1 自然灾害`), which then invites them.
- The "read" column of the receipt matrix is filled by read receipts in the recipient's DM.
- Order DMs name their incident and link its room; the alert DM names the declarer, the class and
  the room, and its ✅ is recorded (card, `!应急 查看`, audit).
- "事发时间: 今天10:20" is archived as the date and time it meant.
"""

from __future__ import annotations

import itertools
import tempfile
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.types import ReceiptEvent
from emergency.models import AlertAck, Incident, Receipt, Report
from emergency.outreach import room_link
from notifications.names import Names
from records import outbox
from records.clock import FrozenClock
from records.config import EmergencySettings, MatrixSettings, ResponderRule, Settings, StepUpSettings
from records.db import Database
from records.models import AuditEntry, OutboxMessage
from tests.emergency.test_emergency_chat import BOT, LEADER, OFFICER, ROOM, STAFF_A, STRANGER, T0, Chat, FakeClient
from zhiban.app import build_dispatcher

FIRE = "@fire:localhost"
INCIDENT_ROOM = "!e1room:localhost"
_n = itertools.count()


@dataclass
class _Response:
    # As nio's ProfileGetResponse: a person with no display name set has it as None.
    content: dict[str, Any] = field(default_factory=dict)
    displayname: str | None = None


class FakeNio:
    """What people lookups ask of nio: no member names are known, everyone exists."""

    def __init__(self) -> None:
        self.rooms: dict[str, Any] = {}

    async def get_profile(self, user_id: str) -> _Response:
        return _Response()


class DeclaringClient(FakeClient):
    """A bot client that can declare: the incident room is 'created' and invitations are noted,
    the summary card is 'sent' directly and remembered."""

    def __init__(self) -> None:
        self.nio = FakeNio()
        self.created: list[dict[str, Any]] = []
        self.invited: list[tuple[str, str]] = []
        self.cards: list[dict[str, Any]] = []

    async def invite(self, room_id: str, user_id: str) -> None:
        self.invited.append((room_id, user_id))

    async def power_levels(self, room_id: str) -> dict[str, Any]:
        return {"users": {BOT: 100}}

    async def set_power_levels(self, room_id: str, content: dict[str, Any]) -> None:
        return None

    async def send_event(self, room_id: str, event_type: str, content: dict[str, Any]) -> str:
        self.cards.append(content)
        return f"$card{next(_n)}"

    async def upload(self, data: bytes, *, content_type: str, filename: str) -> str:
        return f"mxc://localhost/{next(_n)}"


class TruthChat(Chat):
    """The emergency chat with a fire brigade configured as responders to natural disasters."""

    def __init__(self, db: Database, clock: FrozenClock) -> None:
        self.db = db
        self.clock = clock
        self.client = DeclaringClient()
        self.settings = Settings(
            data_dir=Path(tempfile.mkdtemp()),
            matrix=MatrixSettings(user_id=BOT),
            roles={"duty_leader": [LEADER], "duty_officer": [OFFICER], "staff": [STAFF_A]},
            emergency=EmergencySettings(responders=[ResponderRule(classes=["自然灾害"], users=[FIRE])]),
            # What is true here does not depend on the phone's confirmation (tests/server/test_server_stepup_incident.py).
            stepup=StepUpSettings(incident_close=False, incident_declare=False),
        )
        self.dispatcher = build_dispatcher(self.settings, db, clock=clock, extra_context={"client": self.client})

    async def _sent_after(self, last: int) -> list[OutboxMessage]:
        """As the relay does: the incident room is 'created' (its card noted), rows waiting for
        it get its id and link, and a DM is sent in the person's DM room, and the row says which."""
        async with self.db.transaction() as session:
            for row in await session.scalars(
                select(OutboxMessage).where(OutboxMessage.id > last).order_by(OutboxMessage.id)
            ):
                if row.event_type == outbox.CREATE_ROOM and row.sent_at is None:
                    self.client.created.append(dict(row.content))
                    await outbox.room_made(session, row, INCIDENT_ROOM)
                    continue
                if row.room_ref is not None:
                    row.content = outbox.fill_room(row.content, INCIDENT_ROOM, room_link(INCIDENT_ROOM))
                    row.room_id = row.room_id or (None if row.to_user else INCIDENT_ROOM)
                if row.ref == "card:E1" and row.relation is None:
                    self.client.cards.append(dict(row.content))
                if row.to_user and row.room_id is None:
                    row.room_id = dm_room(row.to_user)
        return await super()._sent_after(last)

    async def receipt(self, sender: str, room: str, read_up_to: str, ts_ms: int = 0) -> list[OutboxMessage]:
        n = next(_n)
        event = ReceiptEvent(
            room_id=room, event_id=f"receipt:{n}", sender=sender, timestamp_ms=ts_ms, source={}, is_dm=True,
            read_up_to=read_up_to,
        )  # fmt: skip
        return await self._feed(event)  # type: ignore[arg-type]


def dm_room(user: str) -> str:
    return f"!dm-{user.split(':')[0].lstrip('@')}:localhost"


def _dm(rows: list[OutboxMessage], user: str) -> OutboxMessage:
    found = [r for r in rows if r.to_user == user]
    assert len(found) == 1, [(r.to_user, r.content.get("body")) for r in rows]
    return found[0]


async def _audit(db: Database, action: str) -> list[AuditEntry]:
    async with db.reading() as session:
        return list(await session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


async def test_a_declaration_without_a_class_says_who_was_not_invited_and_the_class_brings_them(
    db: Database,
) -> None:
    clock = FrozenClock(T0)
    chat = TruthChat(db, clock)
    sent = await chat.say(OFFICER, "!应急 启动 Ⅱ 城区内涝")
    reply = next(str(r.content["body"]) for r in sent if r.room_id == ROOM)
    # Declared at once (the room exists), and the reply says plainly what is missing and the fix.
    assert "已启动" in reply and "E1" in reply, reply
    assert "未指定类别" in reply and "按类别配置的处置人员" in reply and "!应急 类别 E1 自然灾害" in reply, reply
    assert FIRE not in chat.client.created[0]["invite"]
    assert not [r for r in sent if r.to_user == FIRE]
    # The summary card says it too, where the commander looks.
    card = str(chat.client.cards[0]["body"])
    assert "类别：未指定" in card and "!应急 类别 E1 自然灾害" in card, card

    # Only who may see the incident learns anything; a bad class gets the usage.
    assert "没有事件 E1" in await chat.reply_to(STRANGER, "!应急 类别 E1 自然灾害")
    bad = await chat.reply_to(LEADER, "!应急 类别 E1 洪水")
    assert "不是有效的类别" in bad and "!应急 类别 E5 <类别>" in bad, bad

    # The class, given later, invites the responders configured for it and alerts them.
    sent = await chat.say(LEADER, "!应急 类别 E1 自然灾害")
    reply = next(str(r.content["body"]) for r in sent if r.room_id == ROOM and not r.relation)
    assert "未指定 → 自然灾害" in reply and FIRE in reply and "1 人" in reply, reply
    assert (INCIDENT_ROOM, FIRE) in chat.client.invited
    alert = str(_dm(sent, FIRE).content["body"])
    assert "城区内涝" in alert and "https://matrix.to/#/!e1room:localhost" in alert, alert
    edited = [str(r.content.get("body")) for r in sent if r.relation == "m.replace"]
    assert edited and "类别：自然灾害" in edited[-1] and "未指定类别" not in edited[-1], edited
    async with db.reading() as session:
        incident = await session.scalar(select(Incident))
    assert incident is not None and incident.category == "自然灾害" and FIRE in incident.members
    (entry,) = await _audit(db, "incident.class")
    assert entry.actor == LEADER and entry.data["invited"] == [FIRE]


async def test_the_read_column_is_filled_by_a_read_receipt_in_the_dm(db: Database) -> None:
    clock = FrozenClock(T0)
    chat = TruthChat(db, clock)
    await chat.say(OFFICER, "!应急 启动 Ⅱ 自然灾害 城区内涝")
    sent = await chat.say(LEADER, f"!指令 {FIRE} {STAFF_A} 到城东泵站集合", INCIDENT_ROOM)
    dm_fire = _dm(sent, FIRE)
    assert _dm(sent, STAFF_A).event_id
    head = "接收人：送达 / 已读 / 确认 / 完成"
    fire, staff_a = Names().of(FIRE), Names().of(STAFF_A)  # shown by name (none known: the localpart)
    matrix = await chat.reply_to(LEADER, "!指令列表 E1", INCIDENT_ROOM)
    assert head in matrix and f"{fire}：✔ / … / … / …" in matrix, matrix

    # The responder opens the DM: their client sends a read receipt on the order's message.
    edits = await chat.receipt(FIRE, dm_room(FIRE), str(dm_fire.event_id))
    assert any(r.relation == "m.replace" and f"{fire}：✔ / ✔ / … / …" in str(r.content["body"]) for r in edits)
    matrix = await chat.reply_to(LEADER, "!指令列表 E1", INCIDENT_ROOM)
    assert f"{fire}：✔ / ✔ / … / …" in matrix and f"{staff_a}：✔ / … / … / …" in matrix, matrix
    (entry,) = await _audit(db, "order.read")
    assert entry.actor == FIRE and entry.subject == "O1"
    # The same receipt again changes nothing more.
    await chat.receipt(FIRE, dm_room(FIRE), str(dm_fire.event_id))
    assert len(await _audit(db, "order.read")) == 1

    # A receipt on a later message of the DM (the bot's answer) covers the order before it.
    later = await chat.say(STAFF_A, "!帮助", dm_room(STAFF_A))
    await chat.receipt(STAFF_A, dm_room(STAFF_A), str(later[-1].event_id))
    async with db.reading() as session:
        read = set(await session.scalars(select(Receipt.user_id).where(Receipt.read_at.is_not(None))))
    assert read == {FIRE, STAFF_A}


async def test_order_dms_name_their_incident_and_the_alert_dm_is_acknowledged(db: Database) -> None:
    clock = FrozenClock(T0)
    chat = TruthChat(db, clock)
    sent = await chat.say(OFFICER, "!应急 启动 Ⅱ 自然灾害 城区内涝")
    link = "https://matrix.to/#/!e1room:localhost?via=localhost"
    alert = _dm(sent, FIRE)
    body = str(alert.content["body"])
    assert (
        "E1" in body
        and "自然灾害" in body
        and f"启动人：{Names().of(OFFICER)}" in body
        and link in body
        and "✅" in body
    ), body

    order_dm = str(_dm(await chat.say(LEADER, f"!指令 {FIRE} 到城东泵站集合", INCIDENT_ROOM), FIRE).content["body"])
    assert "【E1 城区内涝】" in order_dm and link in order_dm, order_dm

    # ✅ on the alert DM acknowledges the declaration: the card, !应急 查看 and the audit say so.
    show = await chat.reply_to(LEADER, "!应急 查看 E1")
    assert "启动通知确认 0/2" in show and f"未确认：{Names().of(LEADER)}、{Names().of(FIRE)}" in show, show
    fire_dm = dm_room(FIRE)
    answer = await chat.react(FIRE, str(alert.event_id), "✅", fire_dm)
    assert any("已确认收到 E1 启动通知" in str(r.content.get("body")) for r in answer)
    assert any(r.relation == "m.replace" and "启动通知确认 1/2" in str(r.content["body"]) for r in answer)
    show = await chat.reply_to(LEADER, "!应急 查看 E1")
    assert "启动通知确认 1/2，未确认：" + Names().of(LEADER) in show, show
    (entry,) = await _audit(db, "incident.alert_ack")
    assert entry.actor == FIRE and entry.subject == "E1"
    # Someone else's ✅ on that DM acknowledges nothing.
    await chat.react(LEADER, str(alert.event_id), "✅", fire_dm)
    async with db.reading() as session:
        acked = set(await session.scalars(select(AlertAck.user_id).where(AlertAck.acked_at.is_not(None))))
    assert acked == {FIRE}

    # The nag names the incident and links its room too.
    clock.advance(timedelta(minutes=10))
    nag = str(_dm(await chat.pump(), FIRE).content["body"])
    assert "【E1 城区内涝】" in nag and link in nag, nag


async def test_a_relative_event_time_is_archived_as_the_date_it_meant(db: Database) -> None:
    clock = FrozenClock(T0)  # Wednesday 25 November 2026, 10:00 in Shanghai
    chat = TruthChat(db, clock)
    await chat.say(OFFICER, "!应急 启动 Ⅱ 自然灾害 城区内涝")
    fields = "事发时间: 今天9:20 地点: 和平路 性质: 内涝 影响: 断路 伤亡: 无 措施: 抽排 需求: 无 报告人: 李四"
    filed = await chat.reply_to(OFFICER, f"!报告 首报 {fields}", INCIDENT_ROOM)
    assert "事发时间：2026-11-25 09:20" in filed and "今天" not in filed, filed
    async with db.reading() as session:
        report = await session.scalar(select(Report))
    assert report is not None and report.fields["event_time"] == "2026-11-25 09:20"

    clock.advance(timedelta(days=1))
    closed = await chat.say(LEADER, "!应急 关闭 E1")
    final = next(str(r.content["body"]) for r in closed if r.room_id == INCIDENT_ROOM and "终结报告" in str(r.content))
    assert "事发时间：2026-11-25 09:20" in final, final


def test_event_times_resolve_in_the_zone_and_keep_what_is_not_a_time() -> None:
    from emergency.grammar import resolve_event_time

    now = T0
    assert resolve_event_time("今天10:20", now=now, tz="Asia/Shanghai") == "2026-11-25 10:20"
    assert resolve_event_time("昨晚11点左右", now=now, tz="Asia/Shanghai") == "2026-11-24 23:00 左右"
    assert resolve_event_time("昨天", now=now, tz="Asia/Shanghai") == "2026-11-24"
    assert resolve_event_time("刚才", now=now, tz="Asia/Shanghai") == "刚才"
    assert resolve_event_time("today 10:20", now=now, tz="Europe/Berlin") == "2026-11-25 10:20"
