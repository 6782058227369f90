"""Emergency commands through the real application wiring, without a homeserver.

Events go through `zhiban.app.build_dispatcher` (all routers, the exactly-once middleware, the
error replies) on SQLite and PostgreSQL; what the bot would send is read back from the outbox.
Covered here: the issue's bad input (each answered with a short bilingual message and the
command's usage, changing nothing) and `!alert` (who receives it, acknowledgements, and the
silent reported to the sender).
"""

from __future__ import annotations

import itertools
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.dispatcher import Dispatcher
from bot.errors import MatrixError
from bot.types import Message, ReactionEvent
from emergency import incidents
from emergency.models import Incident, Order, Receipt
from emergency.policy import Policy
from emergency.texts import TEXTS
from records import outbox_actions
from records.clock import FrozenClock
from records.config import MatrixSettings, Settings, StepUpSettings
from records.db import Database
from records.models import AuditEntry, OutboxMessage, Person, Timer
from records.outbox_actions import ACTION
from records.timers import TimerPump, run_timer
from zhiban.app import build_dispatcher, build_timers

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # Wednesday 10:00 in Shanghai
SERVER = "localhost"
ROOM = "!duty:localhost"
INCIDENT_ROOM = "!incident:localhost"
LEADER = "@leader:localhost"
OFFICER = "@officer:localhost"
STAFF_A = "@a:localhost"
STAFF_B = "@b:localhost"
STRANGER = "@stranger:localhost"
BOT = "@zhiban:localhost"
_ids = itertools.count()


class FakeClient:
    """The parts of the bot client that these commands touch without creating rooms."""

    user_id = BOT

    def power_level(self, room_id: str, user_id: str) -> int:
        return 0

    # No homeserver behind it: every room call is refused as a real BotClient's would be.
    async def invite(self, room_id: str, user_id: str) -> None:
        raise MatrixError("no homeserver")

    async def get_event(self, room_id: str, event_id: str) -> dict[str, Any]:
        raise MatrixError("no homeserver")

    async def upload(self, data: bytes, *, content_type: str, filename: str) -> str:
        raise MatrixError("no homeserver")

    async def power_levels(self, room_id: str) -> dict[str, Any]:
        raise MatrixError("no homeserver")

    async def resolve_alias(self, alias: str) -> str:
        raise MatrixError("no homeserver")


class Chat:
    """Feeds chat events to the real dispatcher and returns what the bot would send."""

    def __init__(self, db: Database, clock: FrozenClock) -> None:
        self.db = db
        self.clock = clock
        self.settings = Settings(
            data_dir=Path(tempfile.mkdtemp()),
            matrix=MatrixSettings(user_id=BOT),
            roles={"duty_leader": [LEADER], "duty_officer": [OFFICER], "staff": [STAFF_A, STAFF_B]},
            # Closed and declared at once here (the phone's confirmation: tests/server/test_server_stepup_incident.py).
            stepup=StepUpSettings(incident_close=False, incident_declare=False),
        )
        self.dispatcher: Dispatcher = build_dispatcher(
            self.settings, db, clock=clock, extra_context={"client": FakeClient()}
        )

    async def _feed(self, event: Message | ReactionEvent) -> list[OutboxMessage]:
        async with self.db.reading() as session:
            last = await session.scalar(select(func.max(OutboxMessage.id))) or 0
        await self.dispatcher.feed(event)
        return await self._sent_after(last)

    async def _sent_after(self, last: int) -> list[OutboxMessage]:
        async with self.db.reading() as session:
            actions = list(
                await session.scalars(
                    select(OutboxMessage).where(OutboxMessage.id > last, OutboxMessage.event_type == ACTION)
                )
            )
        for action in actions:  # the relay performs actions (a voice message's fetch) first
            await outbox_actions.run(self.db, self.dispatcher.context["client"], action)
        async with self.db.transaction() as session:
            rows = list(
                await session.scalars(select(OutboxMessage).where(OutboxMessage.id > last).order_by(OutboxMessage.id))
            )
            for row in rows:  # what the relay does once Matrix accepted them
                row.event_id = row.event_id or f"$out{row.id}"
                row.sent_at = row.sent_at or self.clock.now()
        return rows

    async def say(self, sender: str, body: str, room: str = ROOM) -> list[OutboxMessage]:
        n = next(_ids)
        return await self._feed(
            Message(room_id=room, event_id=f"$in{n}", sender=sender, timestamp_ms=n, source={}, body=body)
        )

    async def react(self, sender: str, event_id: str, key: str, room: str) -> list[OutboxMessage]:
        n = next(_ids)
        event = ReactionEvent(
            room_id=room, event_id=f"$re{n}", sender=sender, timestamp_ms=n, source={}, key=key, reacts_to=event_id
        )
        return await self._feed(event)

    async def reply_to(self, sender: str, body: str, room: str = ROOM) -> str:
        """The one answer in the room to a message."""
        answers = [r for r in await self.say(sender, body, room) if r.room_id == room and not r.relation]
        assert len(answers) == 1, [r.content.get("body") for r in answers]
        return str(answers[0].content["body"])

    async def pump(self) -> list[OutboxMessage]:
        """Run the due timers (as the worker would) and return what they queued."""
        async with self.db.reading() as session:
            last = await session.scalar(select(func.max(OutboxMessage.id))) or 0
        registry = build_timers(self.settings)

        async def run(timer_id: int) -> None:
            await run_timer(self.db, timer_id, registry, self.clock)

        await TimerPump(self.db, self.clock, run).pump_once()
        return await self._sent_after(last)


async def _open_incident(db: Database, clock: FrozenClock) -> None:
    """Incident E1 with its room, declared by the officer (room creation needs Matrix: skipped)."""
    async with db.transaction() as session:
        people = incidents.People([LEADER], [OFFICER], [STAFF_A])
        incident = await incidents.declare(
            session, actor=OFFICER, grade=2, category="自然灾害", title="城东内涝", people=people,
            policy=Policy(), clock=clock,
        )  # fmt: skip
        await incidents.attach_room(session, incident, INCIDENT_ROOM)


async def _state(db: Database) -> tuple[Any, ...]:
    """Everything a refused command must leave untouched."""
    async with db.reading() as session:
        counted = [
            await session.scalar(select(func.count()).select_from(table))
            for table in (Incident, Order, Receipt, AuditEntry)
        ]
        pending = await session.scalar(select(func.count()).select_from(Timer).where(Timer.status == "pending"))
        statuses = tuple(await session.scalars(select(Incident.status).order_by(Incident.id)))
    return (*counted, pending, statuses)


def _refused(body: str, *parts: str) -> None:
    assert body.startswith("⚠️"), body
    assert "Traceback" not in body
    for part in parts:
        assert part in body, body


def test_bad_input_texts_are_bilingual() -> None:
    for key in (
        "em.incident.bad_grade",
        "em.order.no_recipients",
        "em.report.not_in_incident",
        "em.incident.close_not_allowed",
        "em.duty.staff_only",
        "em.order.no_text",
    ):
        assert TEXTS[key]["zh"] and TEXTS[key]["en"], key


async def test_each_refusal_for_lack_of_permission_says_why_without_usage(db: Database) -> None:
    """Usage invites a retry that fails again: a refusal is the reason alone, in each handler."""
    clock = FrozenClock(T0)
    chat = Chat(db, clock)
    await _open_incident(db, clock)
    before = await _state(db)
    refusals = {
        (STAFF_A, "!值班 设置 今天 @leader @officer", ROOM): "只有带班领导或管理员可以排班。",
        (STRANGER, "!交接班 泵站已检修", ROOM): "此操作仅限值班人员",
        (STRANGER, "!值班记录 来电 城东积水", ROOM): "此操作仅限值班人员",
        (STRANGER, "!应急 启动 Ⅱ 城东内涝", ROOM): "只有值班人员、领导或管理员可以启动应急事件。",
        (STAFF_A, f"!指令 {STAFF_B} 到城东泵站集合", INCIDENT_ROOM): "只有指挥长、值班人员或管理员可以在 E1 下达指令。",
        (STRANGER, "!警报 全员待命", ROOM): "此操作仅限值班人员",
    }
    for (sender, body, room), reason in refusals.items():
        answer = await chat.reply_to(sender, body, room)
        _refused(answer, reason)
        assert "用法" not in answer and "示例" not in answer, answer
    # Wrong words still get the usage.
    _refused(await chat.reply_to(LEADER, "!交接班", ROOM), "用法")
    assert await _state(db) == before


async def test_bad_input_is_refused_with_usage_and_changes_nothing(db: Database) -> None:
    clock = FrozenClock(T0)
    chat = Chat(db, clock)
    await _open_incident(db, clock)
    before = await _state(db)

    # An unknown grade (and a missing one) when declaring.
    _refused(await chat.reply_to(OFFICER, "!应急 启动 9 城东内涝"), "不是有效的等级", "9", "用法", "!应急 启动 <等级")
    _refused(await chat.reply_to(OFFICER, "!incident declare"), "用法", "!应急 启动")
    # An order with no recipients, in the incident room.
    _refused(await chat.reply_to(LEADER, "!指令 到城东泵站集合", INCIDENT_ROOM), "请 @ 指令的接收人", "!指令 @甲 @乙")
    # An order outside an incident room.
    _refused(await chat.reply_to(LEADER, f"!指令 {STAFF_A} 到城东泵站集合"), "事件群", "!指令 @甲 @乙")
    # A report outside an incident room.
    _refused(await chat.reply_to(OFFICER, "!报告 首报 地点: 和平路"), "请在事件群内报送报告", "!报告 首报|续报|终报")
    # A close by someone who may not: a responder in the room is told why; a stranger naming the
    # incident from another room is answered as for an id that does not exist (need-to-know).
    # A refusal says why and no more: usage would invite a retry that fails again.
    refusal = await chat.reply_to(STAFF_A, "!应急 关闭", INCIDENT_ROOM)
    _refused(refusal, "只有指挥长", "E1")
    assert "用法" not in refusal, refusal
    stranger = await chat.reply_to(STRANGER, "!incident close E1")
    _refused(stranger, "没有事件 E1", "!应急 关闭 E5")
    assert stranger == (await chat.reply_to(STRANGER, "!incident close E9")).replace("E9", "E1")
    # An alert by someone who is not duty staff, and an empty one.
    not_staff = await chat.reply_to(STRANGER, "!警报 全员待命")
    _refused(not_staff, "仅限值班人员")
    assert "用法" not in not_staff, not_staff
    _refused(await chat.reply_to(LEADER, "!警报"), "请写明内容", "!警报 <内容>")

    assert await _state(db) == before


async def test_bad_input_in_english(db: Database) -> None:
    clock = FrozenClock(T0)
    chat = Chat(db, clock)
    await _open_incident(db, clock)
    await chat.say(LEADER, "!lang en")
    _refused(
        await chat.reply_to(LEADER, "!incident declare V flooding"), "not a grade", "Usage", "!incident declare <grade"
    )
    _refused(await chat.reply_to(LEADER, "!order go to the pump", INCIDENT_ROOM), "Mention who", "!order @a @b")


async def test_alert_reaches_the_alert_roles_tracks_acks_and_reports_the_silent(db: Database) -> None:
    clock = FrozenClock(T0)
    chat = Chat(db, clock)
    sent = await chat.say(LEADER, "!警报 台风预警，全员待命")
    reply = [r for r in sent if r.room_id == ROOM and not r.relation and "已通知" in str(r.content.get("body"))]
    assert len(reply) == 1 and "O1" in str(reply[0].content["body"]) and "3 人" in str(reply[0].content["body"])
    # Everyone with an alert role but the sender gets a DM; nobody else does.
    dms = {r.to_user: r for r in sent if r.to_user}
    assert set(dms) == {OFFICER, STAFF_A, STAFF_B}
    assert all("紧急通知 O1" in str(r.content["body"]) and "台风预警" in str(r.content["body"]) for r in dms.values())
    card = [r for r in sent if r.ref == "card:O1"]
    assert len(card) == 1 and "0/3" in str(card[0].content["body"])

    # One acknowledges with !收到, another with ✅ on the DM; the card follows.
    assert "已确认收到 O1" in await chat.reply_to(STAFF_A, "!收到 O1", "!dm-a:localhost")
    edits = await chat.react(STAFF_B, str(dms[STAFF_B].event_id), "✅", "!dm-b:localhost")
    assert any(r.relation == "m.replace" and "2/3" in str(r.content.get("body")) for r in edits)
    async with db.reading() as session:
        acked = set(await session.scalars(select(Receipt.user_id).where(Receipt.acked_at.is_not(None))))
        order = await session.scalar(select(Order))
    assert acked == {STAFF_A, STAFF_B}
    assert order is not None and order.kind == "alert" and order.incident_id is None
    # Someone the alert was not for cannot acknowledge it.
    _refused(await chat.reply_to(STRANGER, "!收到 O1"), "不是指令 O1 的接收人")

    # The silent officer is nagged (grade Ⅱ period: 10 minutes), then the sender is told.
    clock.advance(timedelta(minutes=10))
    first = await chat.pump()
    assert [r.to_user for r in first if r.to_user] == [OFFICER]
    clock.advance(timedelta(minutes=10))
    second = await chat.pump()
    told = [r for r in second if r.to_user == LEADER]
    # The officer is named as a pill (by name in the body), not by their Matrix ID.
    told_html = str(told[0].content["formatted_body"])
    assert len(told) == 1 and f"https://matrix.to/#/{OFFICER}" in told_html and "O1" in str(told[0].content["body"])
    assert {r.to_user for r in second if r.to_user} == {OFFICER, LEADER}
    # Told once only, however long the silence lasts.
    clock.advance(timedelta(minutes=10))
    assert [r.to_user for r in await chat.pump() if r.to_user] == [OFFICER]
    # Once acknowledged, the nagging stops.
    assert "已确认收到" in await chat.reply_to(OFFICER, "!ack O1", "!dm-o:localhost")
    clock.advance(timedelta(minutes=30))
    assert [r for r in await chat.pump() if r.to_user] == []


async def test_alert_reaches_someone_granted_an_alert_role_in_chat_once(db: Database) -> None:
    chat = Chat(db, FrozenClock(T0))
    async with db.transaction() as session:
        # A duty officer granted in chat, and the configured officer granted it again.
        session.add(Person(user_id=STRANGER, roles=["duty_officer"], created_at=T0))
        session.add(Person(user_id=OFFICER, roles=["duty_officer"], created_at=T0))
    sent = await chat.say(LEADER, "!alert typhoon warning")
    assert sorted(r.to_user or "" for r in sent if r.to_user) == sorted([OFFICER, STAFF_A, STAFF_B, STRANGER])


class VoiceClient(FakeClient):
    """Serves the one voice message of the spoken-report test from the authenticated media API."""

    def __init__(self, audio: bytes) -> None:
        self.audio = audio

    async def download(self, url: str, *, max_bytes: int | None = None) -> bytes:
        return self.audio


@pytest.mark.parametrize("confirm", ["采用", "✅ on the transcript"])
async def test_a_report_can_be_answered_by_voice_then_confirmed(db: Database, confirm: str) -> None:
    import commands.voice.jobs as voice_jobs
    from bot.types import Media
    from emergency.models import Report
    from tests.support.voice_samples import MISSING_REASON, SHARED_VOICE
    from voice.engine import Segment, Transcript

    sample = SHARED_VOICE / "zh_tts_flood.ogg"
    if not sample.is_file():
        pytest.skip(MISSING_REASON)
    spoken = "地点：城东区和平路 影响：道路中断，两辆车被困"

    class Heard:
        name = "fake"

        def transcribe(self, audio: Any, **_: Any) -> Transcript:
            return Transcript(spoken, "zh", 4.0, (Segment(0.0, 4.0, spoken),), self.name)

    clock = FrozenClock(T0)
    chat = Chat(db, clock)
    chat.dispatcher.context["client"] = VoiceClient(sample.read_bytes())
    await _open_incident(db, clock)
    assert "【" in await chat.reply_to(OFFICER, "!报告 首报", INCIDENT_ROOM)
    assert "没有收到您的语音" in await chat.reply_to(OFFICER, "采用", INCIDENT_ROOM)

    voice_jobs.use_transcriber(Heard())
    try:
        voice = Message(
            room_id=INCIDENT_ROOM, event_id="$voice", sender=OFFICER, timestamp_ms=next(_ids), source={},
            body="语音消息.ogg", msgtype="m.audio", is_voice=True,
            media=Media(url="mxc://localhost/voice", mimetype="audio/ogg", size=sample.stat().st_size, duration_ms=4300),
        )  # fmt: skip
        answers = await chat._feed(voice)
        bodies = [str(r.content.get("body")) for r in answers]
        # The wizard says how to use it, and the voice feature still takes the message (⏳).
        assert any("采用" in b for b in bodies), bodies
        assert any(r.content.get("m.relates_to", {}).get("key") == "⏳" for r in answers)
        assert "还在转写" in await chat.reply_to(OFFICER, "采用", INCIDENT_ROOM)

        transcribed = await chat.pump()  # the worker transcribes
        if confirm == "采用":
            used = await chat.reply_to(OFFICER, "采用", INCIDENT_ROOM)
        else:
            transcript = next(r for r in transcribed if (r.ref or "").startswith("voice:V") and r.content.get("body"))
            # A ✅ on something else (the voice message itself) is not taken as a confirmation.
            elsewhere = await chat.react(OFFICER, "$voice", "✅", INCIDENT_ROOM)
            assert not any("采用" in str(r.content.get("body")) for r in elsewhere)
            sent = await chat.react(OFFICER, transcript.event_id or "", "✅", INCIDENT_ROOM)
            used = str(sent[-1].content["body"])
    finally:
        voice_jobs.use_transcriber(None)
    # Both spoken fields are taken, and the question still open follows.
    assert used.startswith("✅ 已采用语音填入：事发地点、影响范围\n请填写【事发时间】"), used

    for _ in range(10):
        body = await chat.reply_to(OFFICER, "跳过", INCIDENT_ROOM)
        if body.startswith("📄"):
            break
    assert "城东区和平路" in body and "两辆车被困" in body, body
    async with db.reading() as session:
        assert await session.scalar(select(func.count()).select_from(Report)) == 1


class InvitingClient(FakeClient):
    """Accepts invitations, noting how many of the database's connections were in use then
    (a turn holds one for its transaction)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.invited: list[tuple[str, str, int]] = []

    async def invite(self, room_id: str, user_id: str) -> None:
        self.invited.append((room_id, user_id, self.db.engine.pool.checkedout()))  # type: ignore[attr-defined]


async def test_an_order_invites_its_newcomers_after_the_turn_commits_and_their_dms_do_not_wait(db: Database) -> None:
    """An order naming someone not yet in the incident room brings them in, but not from inside
    the turn: a homeserver rate-limiting the invitation (a 429 retried for a minute) would hold
    the transaction (and SQLite's write lock) open the while."""
    clock = FrozenClock(T0)
    chat = Chat(db, clock)
    client = InvitingClient(db)
    chat.dispatcher.context["client"] = client
    await _open_incident(db, clock)
    async with db.reading() as session:
        last = await session.scalar(select(func.max(OutboxMessage.id))) or 0
    n = next(_ids)
    order = Message(
        room_id=INCIDENT_ROOM, event_id=f"$in{n}", sender=LEADER, timestamp_ms=n, source={},
        body=f"!指令 {STAFF_B} {STAFF_A} 到城东泵站集合",
    )  # fmt: skip
    await chat.dispatcher.feed(order)
    assert client.invited == []  # the turn asked the homeserver nothing
    async with db.reading() as session:
        queued = list(await session.scalars(select(OutboxMessage).where(OutboxMessage.id > last)))
    admissions = [r for r in queued if r.event_type == ACTION]
    # Only the newcomer: the officer's class put STAFF_A in the room when it was declared.
    assert [(r.room_id, r.content["kind"], r.content["payload"]["users"]) for r in admissions] == [
        (INCIDENT_ROOM, "emergency.admit", [STAFF_B])
    ]
    dms = [r for r in queued if r.to_user == STAFF_B]
    assert len(dms) == 1 and dms[0].room_ref is None  # the order's DM goes without waiting
    await chat._sent_after(last)  # the relay's part
    assert client.invited == [(INCIDENT_ROOM, STAFF_B, 0)]  # done with no transaction open
