"""A lost phone, start to end: the signer's only authenticator is on it while a 签发 waits for
them; an admin resets it in chat; the phone's board sign-in no longer works, and neither does
its authenticator app; the signer signs in again, enrols a new one with the session alone and
confirms the same 签发. The real dispatcher and the real server (ASGI), on SQLite and PostgreSQL."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "notifications"))
from push_env import PUBLIC_URL, T0

from records.clock import FrozenClock
from records.db import Database
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

            # The phone's holder: signed out, and its app's codes no longer confirm anything.
            assert (await lost.get("/security")).status_code == 401
            clock.advance(timedelta(seconds=30))
            refused = await lost.post(f"/confirm/{token}/totp", json={"code": lost_app.at(clock.now())})
            assert refused.status_code == 401
            assert await _decision(chat, code) == ("pending", None)

        async with _phone(tmp_path, database_url, clock) as new_phone:
            await _sign_in(chat, new_phone, SIGNER)
            page = await new_phone.get("/security")
            assert page.status_code == 200 and 'data-totp="0"' in page.text and 'data-passkeys="0"' in page.text
            # No authenticator is left, so the first one needs the (fresh) session alone.
            new_app = await _enrol(new_phone, clock)
            old = await new_phone.post(f"/confirm/{token}/totp", json={"code": lost_app.at(clock.now())})
            assert old.status_code == 403, "the lost phone's secret is gone"
            clock.advance(timedelta(seconds=30))
            done = await new_phone.post(f"/confirm/{token}/totp", json={"code": new_app.at(clock.now())})
            assert done.status_code == 200, done.text
            assert await _decision(chat, code) == ("approved", "approve")
