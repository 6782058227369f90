"""Closing an incident confirmed with a passkey, end to end: a real Synapse and bot, the real
server, and headless Chromium with a virtual authenticator (the phone's screen lock). The chat
command closes nothing; the passkey registered on /security closes it, the audit entry names
that passkey, and the bot posts the final report in the incident's room."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))
from cdp import chromium, find_chromium, needs_chromium
from live_server import free_port, serve

from emergency.models import Incident
from notifications import signin
from records.clock import SystemClock
from records.db import Database
from records.models import AuditEntry
from records.stepup import PasskeyCredential
from server.app import create_app
from tests.e2e.conftest import MakeBot
from tests.e2e.test_emergency_close_stepup_e2e import ask_to_close
from tests.e2e.test_stepup_passkey_e2e import register_passkey
from tests.support.fixtures import MakeUser
from zhiban.stepup_wiring import complete

BROWSER = find_chromium()
pytestmark = [
    pytest.mark.e2e,
    needs_chromium(BROWSER),
]


async def _status(db: Database) -> str:
    async with db.reading() as session:
        incident = await session.scalar(select(Incident))
    assert incident is not None
    return incident.status


async def test_a_passkey_closes_the_incident(make_bot: MakeBot, make_user: MakeUser, tmp_path: Path) -> None:
    assert BROWSER is not None
    port = free_port()
    base = f"http://localhost:{port}"  # WebAuthn needs a domain, not an IP address
    bot, leader, room, link = await ask_to_close(make_bot, make_user, base)
    db = Database(bot.settings.database_url)
    assert await _status(db) == "open"
    async with db.transaction() as session:
        token = await signin.create_link(session, leader.user_id, minutes=15, clock=SystemClock())

    app = create_app(bot.settings, extra={"step_completion": complete})
    async with serve(app, port), chromium(BROWSER, tmp_path / "profile") as page:
        await register_passkey(page, base, token)

        await page.send("Page.navigate", url=link)
        await page.wait_for("document.body?.dataset.ready === '1'")
        assert "确认关闭事件" in await page.evaluate("document.querySelector('h1').textContent")
        assert await _status(db) == "open"
        await page.evaluate("document.getElementById('use-passkey').click()")
        await page.wait_for("document.getElementById('confirm').dataset.state === 'done'")
    assert await _status(db) == "closed"
    final = await leader.wait_for(
        lambda e: e.sender == bot.user_id and "终结报告" in (e.body or "") and e.room_id != room, since=0
    )
    assert "燃气泄漏" in (final.body or "")
    async with db.reading() as session:
        [passkey] = list(await session.scalars(select(PasskeyCredential)))
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "incident.close"))
    await db.dispose()
    assert entry is not None and entry.data["confirmed_with"] == passkey.credential_id
