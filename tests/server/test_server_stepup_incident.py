"""Closing an incident is confirmed on the phone: `!incident close E1` only answers with a link,
and only the right TOTP code on /confirm closes it (the final report queued for its room, the
.docx left to the bot's relay as an outbox action). The real dispatcher asks, the real server
(ASGI) confirms through the application's wiring, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import pyotp
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "notifications"))
from push_env import PUBLIC_URL, make_settings

from emergency import confirm
from emergency.models import Incident
from notifications import signin
from records import outbox, outbox_actions
from records.clock import FrozenClock
from records.config import MatrixSettings, ServerSettings, Settings
from records.db import Database
from records.models import AuditEntry, OutboxMessage
from server.app import create_app
from tests.emergency.test_emergency_chat import BOT, INCIDENT_ROOM, LEADER, OFFICER, ROOM, T0, Chat, FakeClient
from tests.emergency.test_emergency_chat import _open_incident as open_incident
from zhiban.app import build_dispatcher
from zhiban.stepup_wiring import complete

LINK = re.compile(re.escape(PUBLIC_URL) + r"/confirm/([\w-]+)")


class UploadingClient(FakeClient):
    """The bot's client as the relay has it: uploads are stored, and remembered."""

    def __init__(self) -> None:
        self.uploads: list[str] = []

    async def upload(self, data: bytes, *, content_type: str, filename: str) -> str:
        self.uploads.append(filename)
        return f"mxc://localhost/{len(self.uploads)}"


class StepUpChat(Chat):
    def __init__(self, db: Database, clock: FrozenClock, **settings: object) -> None:
        self.db, self.clock, self.client = db, clock, UploadingClient()
        self.settings = Settings(
            data_dir=Path(tempfile.mkdtemp()),
            matrix=MatrixSettings(user_id=BOT),
            roles={"duty_leader": [LEADER], "duty_officer": [OFFICER]},
            server=ServerSettings(public_url=PUBLIC_URL),
            **settings,  # type: ignore[arg-type]
        )
        self.dispatcher = build_dispatcher(self.settings, db, clock=clock, extra_context={"client": self.client})


@asynccontextmanager
async def _office(
    tmp_path: Path, database_url: str, clock: FrozenClock, **settings: object
) -> AsyncIterator[tuple[StepUpChat, httpx.AsyncClient]]:
    base = make_settings(tmp_path)
    server_settings = base.model_copy(update={"database": base.database.model_copy(update={"url": database_url})})
    db = Database(database_url)
    chat = StepUpChat(db, clock, **settings)
    app = create_app(server_settings, extra={"clock": clock, "step_completion": complete})
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC_URL) as client:
            yield chat, client
    await db.dispose()


async def _sign_in_and_enrol(chat: StepUpChat, client: httpx.AsyncClient, user: str) -> pyotp.TOTP:
    async with chat.db.transaction() as session:
        token = await signin.create_link(session, user, minutes=15, clock=chat.clock)
    assert (await client.post(f"/push/signin/{token}")).status_code == 303
    started = await client.post("/security/totp")
    app = pyotp.TOTP(started.json()["secret"])
    assert (await client.post("/security/totp/confirm", json={"code": app.at(chat.clock.now())})).status_code == 200
    chat.clock.advance(timedelta(seconds=30))  # the enrolment's code is spent
    return app


async def _ask_close(chat: StepUpChat) -> str:
    answer = await chat.reply_to(LEADER, "!incident close E1")
    match = LINK.search(answer)
    assert match is not None and "尚未关闭" in answer, answer
    return match.group(1)


async def _status(db: Database) -> str:
    async with db.reading() as session:
        incident = await session.scalar(select(Incident))
    assert incident is not None
    return incident.status


async def _final_reports(db: Database) -> list[OutboxMessage]:
    async with db.reading() as session:
        rows = await session.scalars(select(OutboxMessage).where(OutboxMessage.room_id == INCIDENT_ROOM))
        return [r for r in rows if "终结报告" in str(r.content.get("body", ""))]


def _wrong(app: pyotp.TOTP, clock: FrozenClock) -> str:
    return str((int(app.at(clock.now())) + 1) % 1_000_000).zfill(6)


async def test_close_waits_for_the_phone_and_a_totp_code_closes_it_once(tmp_path: Path, database_url: str) -> None:
    clock = FrozenClock(T0)
    async with _office(tmp_path, database_url, clock) as (chat, client):
        await open_incident(chat.db, clock)
        token = await _ask_close(chat)
        assert await _status(chat.db) == "open" and not await _final_reports(chat.db)

        app = await _sign_in_and_enrol(chat, client, LEADER)
        page = await client.get(f"/confirm/{token}")
        assert page.status_code == 200 and "确认关闭事件" in page.text and "E1" in page.text
        assert (await client.post(f"/confirm/{token}/totp", json={"code": _wrong(app, clock)})).status_code == 403
        assert await _status(chat.db) == "open" and not await _final_reports(chat.db)

        done = await client.post(f"/confirm/{token}/totp", json={"code": app.at(clock.now())})
        assert done.status_code == 200, done.text
        assert await _status(chat.db) == "closed"
        assert len(await _final_reports(chat.db)) == 1
        replay = await client.post(f"/confirm/{token}/totp", json={"code": app.at(clock.now())})
        assert replay.status_code == 410 and replay.json()["error"] == "used"

        # The server touched no homeserver: the bot's relay uploads the .docx, once.
        async with chat.db.reading() as session:
            actions = list(
                await session.scalars(select(OutboxMessage).where(OutboxMessage.event_type == outbox_actions.ACTION))
            )
            entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "incident.close"))
        assert [a.content["kind"] for a in actions] == [confirm.DOCX] and actions[0].room_id == INCIDENT_ROOM
        assert entry is not None and entry.actor == LEADER and entry.data["confirmed_with"] == "totp"
        await outbox_actions.run(chat.db, chat.client, actions[0])
        async with chat.db.reading() as session:
            files = list(await session.scalars(select(OutboxMessage).where(OutboxMessage.ref == "final:E1")))
        assert len(chat.client.uploads) == 1 and chat.client.uploads[0].endswith(".docx")
        assert len(files) == 1 and files[0].content["msgtype"] == "m.file"

        # Closed already: a second request is refused in chat.
        again = await chat.reply_to(LEADER, "!incident close E1")
        assert again.startswith("⚠️") and "/confirm/" not in again, again


async def test_a_late_answer_leaves_the_incident_open(tmp_path: Path, database_url: str) -> None:
    clock = FrozenClock(T0)
    async with _office(tmp_path, database_url, clock) as (chat, client):
        await open_incident(chat.db, clock)
        app = await _sign_in_and_enrol(chat, client, LEADER)
        token = await _ask_close(chat)
        clock.advance(timedelta(minutes=11))
        late = await client.post(f"/confirm/{token}/totp", json={"code": app.at(clock.now())})
        assert late.status_code == 410 and late.json()["error"] == "expired"
        assert await _status(chat.db) == "open" and not await _final_reports(chat.db)


async def test_with_the_switch_off_chat_closes_at_once(tmp_path: Path, database_url: str) -> None:
    clock = FrozenClock(T0)
    async with _office(tmp_path, database_url, clock, stepup={"incident_close": False}) as (chat, _):
        await open_incident(chat.db, clock)
        sent = await chat.say(LEADER, "!incident close E1")
        assert await _status(chat.db) == "closed"
        assert any("终结报告" in str(r.content.get("body")) for r in sent if r.room_id == INCIDENT_ROOM)
        assert any(r.content.get("msgtype") == "m.file" for r in sent), "the relay uploaded the .docx"


async def _incidents(db: Database) -> list[Incident]:
    async with db.reading() as session:
        return list(await session.scalars(select(Incident)))


async def _room_actions(db: Database) -> list[OutboxMessage]:
    async with db.reading() as session:
        return list(await session.scalars(select(OutboxMessage).where(OutboxMessage.event_type == outbox.CREATE_ROOM)))


async def test_grade_one_is_declared_only_by_the_right_code(tmp_path: Path, database_url: str) -> None:
    clock = FrozenClock(T0)
    async with _office(tmp_path, database_url, clock) as (chat, client):
        answer = await chat.reply_to(OFFICER, "!应急 启动 Ⅰ 自然灾害 城区内涝")
        match = LINK.search(answer)
        assert match is not None and "尚未启动" in answer and "城区内涝" in answer, answer
        token = match.group(1)
        assert not await _incidents(chat.db) and not await _room_actions(chat.db), "the command declared nothing"

        app = await _sign_in_and_enrol(chat, client, OFFICER)
        page = await client.get(f"/confirm/{token}")
        assert page.status_code == 200 and "确认启动Ⅰ级响应" in page.text and "城区内涝" in page.text
        assert (await client.post(f"/confirm/{token}/totp", json={"code": _wrong(app, clock)})).status_code == 403
        assert not await _incidents(chat.db) and not await _room_actions(chat.db)

        done = await client.post(f"/confirm/{token}/totp", json={"code": app.at(clock.now())})
        assert done.status_code == 200, done.text
        replay = await client.post(f"/confirm/{token}/totp", json={"code": app.at(clock.now())})
        assert replay.status_code == 410 and replay.json()["error"] == "used"

        [incident] = await _incidents(chat.db)
        assert (incident.grade, incident.category, incident.title) == (1, "自然灾害", "城区内涝")
        assert incident.declared_by == OFFICER and LEADER in incident.members
        # One room to create, by the bot's relay; the declarer is told once it exists. Nobody
        # is invited at its creation (tests/emergency/test_emergency_admission.py): once it exists.
        [room] = await _room_actions(chat.db)
        assert room.sent_at is None and room.content["invite"] == []
        async with chat.db.reading() as session:
            told = list(await session.scalars(select(OutboxMessage).where(OutboxMessage.room_ref == room.id)))
            entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "incident.declare"))
        assert any(r.room_id == ROOM and "已启动" in str(r.content.get("body")) for r in told), told
        assert any(r.to_user == LEADER for r in told), "the duty leader's alert waits for the room"
        assert entry is not None and entry.actor == OFFICER and entry.data["confirmed_with"] == "totp"


async def test_grade_three_and_the_switch_off_declare_at_once(tmp_path: Path, database_url: str) -> None:
    clock = FrozenClock(T0)
    async with _office(tmp_path, database_url, clock) as (chat, _):
        answer = await chat.reply_to(OFFICER, "!应急 启动 Ⅲ 自然灾害 城区内涝")
        assert "/confirm/" not in answer and "已启动" in answer, answer
        assert [i.grade for i in await _incidents(chat.db)] == [3]
    async with _office(tmp_path, database_url, clock, stepup={"incident_declare": False}) as (chat, _):
        answer = await chat.reply_to(OFFICER, "!应急 启动 Ⅰ 自然灾害 城区内涝")
        assert "/confirm/" not in answer and "已启动" in answer, answer
        assert [i.grade for i in await _incidents(chat.db)] == [3, 1]
