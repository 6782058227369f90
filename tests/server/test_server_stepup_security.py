"""The security page over plain HTTP (the real server, ASGI): what is refused stays in the
audit trail, authenticators can be removed, and the step-up pages are rate limited per address."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from records.clock import FrozenClock
from records.models import AuditEntry
from tests.server.test_server_stepup_totp import SIGNER, T0, _office, _sign_in


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
