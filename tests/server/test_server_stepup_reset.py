"""A lost phone, start to end: the signer's only authenticator is on it while a 签发 waits for
them; an admin resets it in chat; the phone's board sign-in no longer works, and neither does
its authenticator app; whoever holds the phone's chat account gets a fresh sign-in but cannot
enrol without the enrolment code the admin received; the signer, given the code out of band,
enrols a new one and confirms the same 签发. The real dispatcher and the real server (ASGI), on SQLite and PostgreSQL."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "notifications"))
from push_env import PUBLIC_URL, T0

from commands.security.service import CODE_PLACEHOLDER
from records.clock import FrozenClock
from records.db import Database
from records.models import AuditEntry
from records.outbox import SECRETS_KEY
from server.app import create_app
from tests.server.test_server_stepup_totp import ROOM, SIGNER, TEMPLATES, _ask, _decision, _enrol, _settings, _sign_in
from tests.support.dispatch_chat import DispatchChat
from zhiban.stepup_wiring import complete

ADMIN = "@admin:office.test"


@asynccontextmanager
async def _office(database_url: str, clock: FrozenClock) -> AsyncIterator[DispatchChat]:
    db = Database(database_url)
    chat = DispatchChat(
        db,
        clock,
        room=ROOM,
        roles={"admin": [ADMIN]},
        approvals={"templates": TEMPLATES},
        server={"public_url": PUBLIC_URL},
    )
    try:
        yield chat
    finally:
        await db.dispose()


@asynccontextmanager
async def _phone(tmp_path: Path, database_url: str, clock: FrozenClock) -> AsyncIterator[httpx.AsyncClient]:
    """A phone's browser: its own cookies, the same server."""
    app = create_app(_settings(tmp_path, database_url), extra={"clock": clock, "step_completion": complete})
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC_URL) as client:
            yield client


async def test_after_an_admins_reset_the_signer_enrols_again_and_confirms_the_waiting_sign_off(
    tmp_path: Path, database_url: str
) -> None:
    clock = FrozenClock(T0)
    async with _office(database_url, clock) as chat:
        code, token, _ = await _ask(chat)
        async with _phone(tmp_path, database_url, clock) as lost:
            await _sign_in(chat, lost, SIGNER)
            lost_app = await _enrol(lost, clock)

            sent = await chat.say(ADMIN, f"!安全 重置 {SIGNER}")
            assert any(f"{code} 签发" in str(r.content.get("body")) for r in sent if r.to_user == SIGNER)
            assert await _decision(chat, code) == ("pending", None)
            # The enrolment code goes to the admin alone, as a secret of the outbox row.
            [handed] = [r for r in sent if r.to_user == ADMIN]
            enrolment_code = handed.content[SECRETS_KEY][CODE_PLACEHOLDER]
            assert CODE_PLACEHOLDER in str(handed.content["body"])
            assert not any(enrolment_code in str(r.content) for r in sent if r.to_user != ADMIN)

            # The phone's holder: signed out, and its app's codes no longer confirm anything.
            assert (await lost.get("/security")).status_code == 401
            clock.advance(timedelta(seconds=30))
            refused = await lost.post(f"/confirm/{token}/totp", json={"code": lost_app.at(clock.now())})
            assert refused.status_code == 401
            assert await _decision(chat, code) == ("pending", None)

            # The finder holds the phone's chat account: a fresh sign-in link, but no enrolment.
            await _sign_in(chat, lost, SIGNER)
            page = await lost.get("/security")
            assert page.status_code == 200 and 'id="enter-code"' in page.text and "登记码" in page.text
            refused = await lost.post("/security/totp")
            assert refused.status_code == 403 and refused.json()["error"] == "enrolment_code", refused.text
            assert (await lost.post("/security/passkey/options")).status_code == 403
            wrong = await lost.post("/security/enrolment-code", json={"code": "AAAAA-AAAAA"})
            assert wrong.status_code == 403
            assert (await lost.post("/security/totp")).status_code == 403

        async with _phone(tmp_path, database_url, clock) as new_phone:
            await _sign_in(chat, new_phone, SIGNER)
            page = await new_phone.get("/security")
            assert page.status_code == 200 and 'data-totp="0"' in page.text and 'data-passkeys="0"' in page.text
            # The code the admin read out over the phone (spaces and case as typed) opens enrolment.
            entered = await new_phone.post("/security/enrolment-code", json={"code": enrolment_code.lower()})
            assert entered.status_code == 200, entered.text
            new_app = await _enrol(new_phone, clock)
            old = await new_phone.post(f"/confirm/{token}/totp", json={"code": lost_app.at(clock.now())})
            assert old.status_code == 403, "the lost phone's secret is gone"
            clock.advance(timedelta(seconds=30))
            done = await new_phone.post(f"/confirm/{token}/totp", json={"code": new_app.at(clock.now())})
            assert done.status_code == 200, done.text
            assert await _decision(chat, code) == ("approved", "approve")
        async with chat.db.reading() as session:
            actions = [a.action for a in await session.scalars(select(AuditEntry))]
        assert "stepup.reset_code_refused" in actions and "stepup.reset_code_entered" in actions


async def test_the_code_opens_enrolment_to_the_browser_that_entered_it_alone(tmp_path: Path, database_url: str) -> None:
    """The finder of the lost phone still holds its chat account and is signed in again when the
    signer enters the code on the new phone: the finder's browser is signed out, a fresh sign-in
    of theirs may neither start a TOTP set-up (overwriting the signer's) nor register a passkey,
    and the signer's browser enrols."""
    clock = FrozenClock(T0)
    async with _office(database_url, clock) as chat:
        async with _phone(tmp_path, database_url, clock) as lost, _phone(tmp_path, database_url, clock) as new:
            await _sign_in(chat, lost, SIGNER)
            await _enrol(lost, clock)
            sent = await chat.say(ADMIN, f"!安全 重置 {SIGNER}")
            [handed] = [r for r in sent if r.to_user == ADMIN]
            code = handed.content[SECRETS_KEY][CODE_PLACEHOLDER]
            await _sign_in(chat, lost, SIGNER)  # the finder, with the phone's chat account
            assert (await lost.post("/security/totp")).status_code == 403

            await _sign_in(chat, new, SIGNER)
            assert (await new.post("/security/enrolment-code", json={"code": code})).status_code == 200
            assert (await lost.post("/security/totp")).status_code == 401, "the finder's sign-in has ended"
            await _sign_in(chat, lost, SIGNER)  # and signs in once more
            refused = await lost.post("/security/totp")
            assert refused.status_code == 403 and refused.json()["error"] == "enrolment_code", refused.text
            assert (await lost.post("/security/passkey/options")).status_code == 403
            page = await lost.get("/security")
            assert 'data-state="elsewhere"' in page.text and "另一个登录的浏览器" in page.text

            await _enrol(new, clock)  # the signer's browser, untouched by the finder's tries
        async with chat.db.reading() as session:
            entered = await session.scalar(select(AuditEntry).where(AuditEntry.action == "stepup.reset_code_entered"))
        assert entered is not None and entered.data == {"sessions_ended": 1}


async def test_an_enrolment_code_refusal_says_why_in_both_languages(tmp_path: Path, database_url: str) -> None:
    clock = FrozenClock(T0)
    async with _office(database_url, clock) as chat, _phone(tmp_path, database_url, clock) as phone:
        await _sign_in(chat, phone, SIGNER)
        none = await phone.post("/security/enrolment-code", json={"code": "AAAAA-AAAAA"})
        assert none.status_code == 409 and none.json()["message_zh"] == "没有等待登记码的重置。"
        await _enrol(phone, clock)
        again = await phone.post("/security/totp")  # the page's other refusals speak both too
        assert again.status_code == 409 and again.json()["message_zh"] == "动态验证码已经开启。", again.text
        await chat.say(ADMIN, f"!安全 重置 {SIGNER}")
        await _sign_in(chat, phone, SIGNER)
        for _ in range(5):
            wrong = await phone.post("/security/enrolment-code", json={"code": "AAAAA-AAAAA"})
        assert wrong.json() == {
            "error": "enrolment_code",
            "message_zh": "登记码不正确。",
            "message": "that is not the enrolment code",
        }
        locked = await phone.post("/security/enrolment-code", json={"code": "AAAAA-AAAAA"})
        assert locked.status_code == 410 and "次数过多" in locked.json()["message_zh"], locked.text
        assert "too many" in locked.json()["message"]
