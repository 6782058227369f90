"""The security page over plain HTTP (the real server, ASGI): what is refused stays in the
audit trail, authenticators can be removed, and the step-up pages are rate limited per address."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pyotp
from sqlalchemy import func, select

from records.clock import FrozenClock
from records.models import AuditEntry
from records.stepup import PasskeyCredential, TotpSecret
from server.app import create_app
from tests.server.test_server_stepup_totp import (
    LEAD,
    PUBLIC_URL,
    SIGNER,
    T0,
    _ask,
    _decision,
    _enrol,
    _office,
    _settings,
    _sign_in,
)


async def test_a_refused_passkey_registration_stays_in_the_audit_trail(tmp_path: Path, database_url: str) -> None:
    clock = FrozenClock(T0)
    async with _office(tmp_path, database_url, clock) as (chat, client):
        await _sign_in(chat, client, SIGNER)
        options = await client.post("/security/passkey/options")
        assert options.status_code == 200, options.text
        forged = {"id": "AAAA", "rawId": "AAAA", "type": "public-key", "response": {"clientDataJSON": "e30"}}
        refused = await client.post("/security/passkey", json={"credential": forged})
        assert refused.status_code == 403, refused.text
        async with chat.db.reading() as session:
            entries = list(
                await session.scalars(select(AuditEntry).where(AuditEntry.action == "stepup.passkey_refused"))
            )
        assert [e.actor for e in entries] == [SIGNER]
        # The challenge was answered once: a second try must start again.
        again = await client.post("/security/passkey", json={"credential": forged})
        assert again.status_code == 409 and again.json()["error"] == "no_challenge", again.text


async def _passkey_of(chat_db: object, user: str, credential_id: str) -> int:
    """A registered passkey, as the table holds it (registering one needs a real authenticator,
    which the browser test has; removing it does not)."""
    async with chat_db.transaction() as session:  # type: ignore[attr-defined]
        row = PasskeyCredential(
            user_id=user, credential_id=credential_id, public_key=b"cose", sign_count=0, transports=[], created_at=T0
        )
        session.add(row)
        await session.flush()
        return int(row.id)


async def _confirm_with(client: httpx.AsyncClient, link: str, app: pyotp.TOTP, clock: FrozenClock) -> None:
    clock.advance(timedelta(seconds=30))  # a fresh code: one step's code works once
    done = await client.post(f"{link}/totp", json={"code": app.at(clock.now())})
    assert done.status_code == 200 and done.json()["next"] == "/security", done.text


async def _actions(chat_db: object, action: str) -> list[AuditEntry]:
    async with chat_db.reading() as session:  # type: ignore[attr-defined]
        return list(await session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


async def test_removing_a_passkey_asks_for_an_authenticator_first_and_is_audited(
    tmp_path: Path, database_url: str
) -> None:
    clock = FrozenClock(T0)
    async with _office(tmp_path, database_url, clock) as (chat, client):
        await _sign_in(chat, client, SIGNER)
        app = await _enrol(client, clock)
        mine = await _passkey_of(chat.db, SIGNER, "phone-key")
        theirs = await _passkey_of(chat.db, LEAD, "lead-key")
        page = await client.get("/security")
        assert f'data-remove-passkey="{mine}"' in page.text and "移除" in page.text and "Remove" in page.text
        assert 'id="remove-totp"' in page.text and f'data-remove-passkey="{theirs}"' not in page.text

        # A session alone (a stolen one) removes nothing: it is sent to confirm first.
        refused = await client.delete(f"/security/passkey/{mine}")
        assert refused.status_code == 403 and refused.json()["error"] == "confirm_first", refused.text
        page = await client.get(refused.json()["confirm"])
        assert "移除" in page.text and "remove" in page.text
        await _confirm_with(client, refused.json()["confirm"], app, clock)

        # Someone else's passkey is not found, even with the window open; one's own goes.
        assert (await client.delete(f"/security/passkey/{theirs}")).status_code == 404
        removed = await client.delete(f"/security/passkey/{mine}")
        assert removed.status_code == 200 and removed.json() == {"ok": True, "left": 1}, removed.text
        assert (await client.delete(f"/security/passkey/{mine}")).status_code == 404
        async with chat.db.reading() as session:
            keys = list(await session.scalars(select(PasskeyCredential.credential_id)))
        assert keys == ["lead-key"]
        entries = await _actions(chat.db, "stepup.passkey_remove")
        assert [(e.actor, e.data["credential"]) for e in entries] == [(SIGNER, "phone-key")]

        # The window closes again after a few minutes.
        clock.advance(timedelta(minutes=6))
        assert (await client.delete("/security/totp")).status_code == 403


async def test_the_last_authenticator_stays_while_a_binding_step_waits_for_it(
    tmp_path: Path, database_url: str
) -> None:
    clock = FrozenClock(T0)
    async with _office(tmp_path, database_url, clock) as (chat, client):
        code, token, _ = await _ask(chat)  # a 签发 waits for the signer's confirmation
        await _sign_in(chat, client, SIGNER)
        bare = await client.get(f"/confirm/{token}")
        assert 'id="no-factor"' in bare.text and "无法确认" in bare.text, "no way to confirm yet, and said so"
        app = await _enrol(client, clock)
        refused = await client.delete("/security/totp")
        assert refused.status_code == 403 and refused.json()["error"] == "confirm_first", refused.text
        await _confirm_with(client, refused.json()["confirm"], app, clock)

        # Removing the only way to confirm would strand the 签发: refused, saying why, in both languages.
        kept = await client.delete("/security/totp")
        assert kept.status_code == 409 and kept.json()["error"] == "confirmation_waiting", kept.text
        assert "签发" in kept.json()["message_zh"] and "waits" in kept.json()["message"]
        clock.advance(timedelta(seconds=30))
        done = await client.post(f"/confirm/{token}/totp", json={"code": app.at(clock.now())})
        assert done.status_code == 200, done.text
        assert await _decision(chat, code) == ("approved", "approve")

        # Nothing waits now: the last one may go, and the page says what that means.
        removed = await client.delete("/security/totp")
        assert removed.status_code == 200 and removed.json() == {"ok": True, "left": 0}, removed.text
        async with chat.db.reading() as session:
            assert await session.scalar(select(func.count()).select_from(TotpSecret)) == 0
        assert [e.actor for e in await _actions(chat.db, "stepup.totp_remove")] == [SIGNER]
        page = await client.get("/security")
        assert 'data-totp="0"' in page.text and "无法确认" in page.text and "cannot be confirmed" in page.text


async def test_the_step_up_pages_are_limited_per_address(tmp_path: Path, database_url: str) -> None:
    clock = FrozenClock(T0)
    base = _settings(tmp_path, database_url)
    settings = base.model_copy(update={"server": base.server.model_copy(update={"stepup_requests_per_minute": 4})})
    app = create_app(settings, extra={"clock": clock})

    def browser(address: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        return httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL)

    async with app.router.lifespan_context(app), browser("10.0.0.1") as client, browser("10.0.0.2") as other:
        pages = ["/security", "/confirm/guess-1", "/security", "/confirm/guess-2"]
        assert [(await client.get(page)).status_code for page in pages] == [401] * 4  # not signed in
        limited = await client.get("/confirm/guess-3")
        assert limited.status_code == 429 and limited.json()["error"] == "rate_limited"
        assert int(limited.headers["retry-after"]) >= 1
        assert (await other.get("/confirm/guess-4")).status_code == 401, "other addresses go on"
        assert (await client.get("/push/")).status_code != 429, "other pages are not counted here"
        clock.advance(timedelta(minutes=1))
        assert (await client.get("/security")).status_code == 401


async def test_refusals_on_the_security_page_read_in_chinese_too(tmp_path: Path, database_url: str) -> None:
    # The page shows message_zh on its Chinese line: an English-only refusal put English there.
    clock = FrozenClock(T0)
    async with _office(tmp_path, database_url, clock) as (chat, client):
        stranger = await client.delete("/security/totp")
        assert stranger.status_code == 401
        assert "!推送" in stranger.json()["message_zh"]
        await _sign_in(chat, client, SIGNER)
        for missing in (await client.delete("/security/passkey/999"), await client.delete("/security/totp")):
            assert missing.status_code == 404
            body = missing.json()
            assert body["message"] and body["message_zh"] and body["message_zh"] != body["message"]
