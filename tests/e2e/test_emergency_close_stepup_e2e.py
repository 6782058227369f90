"""Closing an incident, and declaring grade Ⅰ, through a real Synapse and bot, confirmed with a
TOTP code on the real server: the chat command answers with the link and does nothing; a wrong
code changes nothing; the right one closes it (the bot, not the server, posts the final report
in the incident's room and attaches the .docx) or declares it (the bot creates its room once)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import httpx
import pyotp
import pytest
from sqlalchemy import select

from emergency.models import Incident
from notifications import signin
from records.clock import FrozenClock, SystemClock
from records.config import Settings
from records.db import Database
from records.models import AuditEntry
from server.app import create_app
from tests.e2e.conftest import BotHandle, MakeBot
from tests.support.chat_user import ChatUser
from tests.support.fixtures import MakeUser
from zhiban.stepup_wiring import complete

pytestmark = pytest.mark.e2e
BASE = "http://zhiban.test"


async def _status(db: Database) -> str:
    async with db.reading() as session:
        incident = await session.scalar(select(Incident))
    assert incident is not None
    return incident.status


async def ask_to_close(make_bot: MakeBot, make_user: MakeUser, base: str) -> tuple[BotHandle, ChatUser, str, str]:
    """A grade Ⅲ incident declared by the duty leader, then `!应急 关闭 E1`: (the bot, the
    leader, the duty room, the confirmation link the bot answered with)."""
    leader = await make_user("leader")
    bot = await make_bot(
        e2ee=False,
        roles={"duty_leader": [leader.user_id], "duty_officer": [leader.user_id]},
        server={"public_url": base, "secret_key": "stepup-close-" + "k" * 24},
    )
    room = await leader.create_room(invite=[bot.user_id])
    await leader.wait_for_member(room, bot.user_id)
    mark = leader.mark()
    await leader.send_text(room, "!应急 启动 3 事故灾难 和平路燃气泄漏")
    await leader.wait_for_message(room, sender=bot.user_id, contains="已启动", since=mark)
    await leader.send_text(room, "!应急 关闭 E1")
    answer = await leader.wait_for_message(room, sender=bot.user_id, contains="在手机上确认关闭", since=mark)
    match = re.search(re.escape(base) + r"/confirm/[\w-]+", answer.body or "")
    assert match is not None and "尚未关闭" in (answer.body or ""), answer.body
    return bot, leader, room, match.group(0)


async def test_a_totp_code_closes_the_incident_and_the_bot_posts_the_final_report(
    make_bot: MakeBot, make_user: MakeUser, tmp_path: Path
) -> None:
    bot, leader, room, link = await ask_to_close(make_bot, make_user, BASE)
    token = link.rsplit("/", 1)[1]
    db = Database(bot.settings.database_url)
    assert await _status(db) == "open", "the command closed nothing"

    clock = FrozenClock(SystemClock().now())
    app = create_app(bot.settings, extra={"clock": clock, "step_completion": complete})
    async with db.transaction() as session:
        link = await signin.create_link(session, leader.user_id, minutes=15, clock=clock)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as web,
    ):
        assert (await web.post(f"/push/signin/{link}")).status_code == 303
        totp = pyotp.TOTP((await web.post("/security/totp")).json()["secret"])
        assert (await web.post("/security/totp/confirm", json={"code": totp.at(clock.now())})).status_code == 200
        clock.advance(timedelta(seconds=30))
        wrong = str((int(totp.at(clock.now())) + 1) % 1_000_000).zfill(6)
        assert (await web.post(f"/confirm/{token}/totp", json={"code": wrong})).status_code == 403
        assert await _status(db) == "open"
        done = await web.post(f"/confirm/{token}/totp", json={"code": totp.at(clock.now())})
        assert done.status_code == 200, done.text
    assert await _status(db) == "closed"

    final = await leader.wait_for(
        lambda e: e.sender == bot.user_id and "终结报告" in (e.body or "") and e.room_id != room, since=0
    )
    assert "燃气泄漏" in (final.body or "")
    docx = await leader.wait_for(
        lambda e: e.sender == bot.user_id and (e.body or "").endswith(".docx") and e.room_id == final.room_id, since=0
    )
    assert docx.content.get("msgtype") == "m.file"
    async with db.reading() as session:
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "incident.close"))
    await db.dispose()
    assert entry is not None and entry.actor == leader.user_id and entry.data["confirmed_with"] == "totp"


async def _confirm_with_totp(bot_settings: Settings, db: Database, user: str, token: str) -> None:
    """Sign in, enrol a TOTP app, answer a wrong code (refused) and then the right one."""
    clock = FrozenClock(SystemClock().now())
    app = create_app(bot_settings, extra={"clock": clock, "step_completion": complete})
    async with db.transaction() as session:
        link = await signin.create_link(session, user, minutes=15, clock=clock)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as web,
    ):
        assert (await web.post(f"/push/signin/{link}")).status_code == 303
        totp = pyotp.TOTP((await web.post("/security/totp")).json()["secret"])
        assert (await web.post("/security/totp/confirm", json={"code": totp.at(clock.now())})).status_code == 200
        clock.advance(timedelta(seconds=30))
        wrong = str((int(totp.at(clock.now())) + 1) % 1_000_000).zfill(6)
        assert (await web.post(f"/confirm/{token}/totp", json={"code": wrong})).status_code == 403
        async with db.reading() as session:
            assert await session.scalar(select(Incident)) is None, "a wrong code declared nothing"
        done = await web.post(f"/confirm/{token}/totp", json={"code": totp.at(clock.now())})
        assert done.status_code == 200, done.text


async def test_a_totp_code_declares_grade_one_and_the_bot_makes_its_room(
    make_bot: MakeBot, make_user: MakeUser
) -> None:
    officer = await make_user("officer")
    leader = await make_user("leader")
    bot = await make_bot(
        e2ee=False,
        roles={"duty_leader": [leader.user_id], "duty_officer": [officer.user_id]},
        server={"public_url": BASE, "secret_key": "stepup-declare-" + "k" * 24},
    )
    room = await officer.create_room(invite=[bot.user_id])
    await officer.wait_for_member(room, bot.user_id)
    mark = officer.mark()
    await officer.send_text(room, "!应急 启动 Ⅰ 自然灾害 城区内涝")
    answer = await officer.wait_for_message(room, sender=bot.user_id, contains="在手机上确认启动", since=mark)
    match = re.search(re.escape(BASE) + r"/confirm/([\w-]+)", answer.body or "")
    assert match is not None and "尚未启动" in (answer.body or ""), answer.body
    db = Database(bot.settings.database_url)
    async with db.reading() as session:
        assert await session.scalar(select(Incident)) is None, "the command declared nothing"

    await _confirm_with_totp(bot.settings, db, officer.user_id, match.group(1))
    declared = await officer.wait_for_message(room, sender=bot.user_id, contains="已启动", since=mark, timeout=60)
    assert "E1" in (declared.body or "")
    async with db.reading() as session:
        incidents = list(await session.scalars(select(Incident)))
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "incident.declare"))
    await db.dispose()
    assert [(i.grade, i.title) for i in incidents] == [(1, "城区内涝")] and incidents[0].room_id
    # The bot made the room and invited the duty leader, who joins it.
    await leader.wait_for_room(str(incidents[0].room_id), timeout=60)
    assert entry is not None and entry.actor == officer.user_id and entry.data["confirmed_with"] == "totp"
