"""签发 confirmed with a passkey, end to end: a real Synapse and bot, the real server, and
headless Chromium whose DevTools WebAuthn domain provides a virtual authenticator (a
platform authenticator with user verification, as a phone's screen lock is).

The ✅ in chat answers with the link and decides nothing; a missing or forged assertion
leaves the step undecided; the passkey registered on /security completes it and the card in
the room shows it decided; the same assertion replayed against a new request is refused. The
passkey is then removed from /security: kept while a 签发 waits for it, gone once none does.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))
from cdp import Page, chromium, find_chromium, needs_chromium
from live_server import free_port, serve

from commands.approvals import service
from notifications import signin
from records import audit
from records.clock import SystemClock
from records.db import Database
from records.models import AuditEntry
from records.stepup import PasskeyCredential
from server.app import create_app
from tests.e2e.conftest import MakeBot
from tests.support.chat_user import ChatUser
from tests.support.fixtures import MakeUser
from zhiban.stepup_wiring import complete

BROWSER = find_chromium()
pytestmark = [
    pytest.mark.e2e,
    needs_chromium(BROWSER),
]

# A phone's own authenticator: resident keys, user verification done (fingerprint, screen lock).
AUTHENTICATOR = {
    "protocol": "ctap2",
    "transport": "internal",
    "hasResidentKey": True,
    "hasUserVerification": True,
    "isUserVerified": True,
    "automaticPresenceSimulation": True,
}


async def _post(page: Page, url: str, body: object) -> dict[str, Any]:
    """POST JSON from the page (its origin, its session cookie): {"status", "body"}."""
    script = f"""fetch({json.dumps(url)}, {{method: "POST", credentials: "same-origin",
        headers: {{"Content-Type": "application/json"}}, body: JSON.stringify({json.dumps(body)})}})
        .then(async r => ({{status: r.status, body: await r.json().catch(() => null)}}))"""
    result: dict[str, Any] = await page.evaluate(script)
    return result


# A real assertion from the authenticator, its signature then altered: the page's own helpers.
FORGED = """(async () => {
  const token = document.getElementById("confirm").dataset.token;
  const r = await fetch(`/confirm/${token}/options`, {method: "POST", credentials: "same-origin",
    headers: {"Content-Type": "application/json"}, body: "{}"});
  const options = await r.json();
  const b = (t) => Uint8Array.from(atob(t.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((t.length + 3) % 4)), c => c.charCodeAt(0)).buffer;
  const s = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
  options.challenge = b(options.challenge);
  options.allowCredentials.forEach(c => c.id = b(c.id));
  const cred = await navigator.credentials.get({publicKey: options});
  const sig = new Uint8Array(cred.response.signature);
  sig[sig.length - 1] ^= 1;
  const body = {credential: {id: cred.id, rawId: s(cred.rawId), type: cred.type, clientExtensionResults: {},
    response: {clientDataJSON: s(cred.response.clientDataJSON), authenticatorData: s(cred.response.authenticatorData),
      signature: s(sig)}}};
  const answer = await fetch(`/confirm/${token}/passkey`, {method: "POST", credentials: "same-origin",
    headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
  return answer.status;
})()"""


async def register_passkey(page: Page, base: str, signin_token: str) -> dict[str, Any]:
    """A virtual authenticator in the browser, signed in with the link's token, and a passkey
    registered once from /security; the authenticator (DevTools' answer)."""
    await page.send("WebAuthn.enable")
    authenticator: dict[str, Any] = await page.send("WebAuthn.addVirtualAuthenticator", options=AUTHENTICATOR)
    await page.send("Page.navigate", url=f"{base}/push/signin/{signin_token}")
    await page.wait_for("location.pathname === '/push/'")
    await page.send("Page.navigate", url=f"{base}/security")
    await page.wait_for("document.body?.dataset.ready === '1'")
    await page.evaluate("document.getElementById('add-passkey').click()")
    await page.wait_for("document.getElementById('security').dataset.passkeys === '1'")
    return authenticator


async def _start_and_tick(alice: ChatUser, signer: ChatUser, room: str, bot_id: str) -> tuple[str, str, str]:
    """alice starts a 发文, the signer ✅ its card: (A-code, the card's event id, the link)."""
    mark = alice.mark()
    await alice.send_text(room, "!审批 发起 发文 关于防汛物资采购的请示")
    card = await alice.wait_for_message(room, sender=bot_id, contains="📝 审批 A", since=mark)
    code = (card.body or "").split("审批 ", 1)[1].split("：", 1)[0]
    await signer.react(room, card.event_id, "✅")
    answer = await alice.wait_for_message(room, sender=bot_id, contains="在手机上确认签发", since=mark)
    match = re.search(r"(http://localhost:\d+/confirm/[\w-]+)", answer.body or "")
    assert match is not None, answer.body
    return code, card.event_id, match.group(1)


async def _status(db: Database, code: str) -> str:
    async with db.reading() as session:
        return (await service.get_approval(session, service.parse_code(code))).status


async def test_a_passkey_confirms_the_sign_off_and_the_card_shows_it(
    make_bot: MakeBot, make_user: MakeUser, tmp_path: Path
) -> None:
    assert BROWSER is not None
    alice = await make_user("alice")
    bob = await make_user("bob")
    port = free_port()
    base = f"http://localhost:{port}"  # WebAuthn needs a domain: an IP address is no relying party
    templates = {"发文": [{"name": "拟稿", "drafter": True}, {"name": "签发", "users": [bob.user_id]}]}
    bot = await make_bot(
        e2ee=False,
        server={"public_url": base, "secret_key": "stepup-test-" + "k" * 24},
        approvals={"templates": templates},
    )
    room = await alice.create_room(invite=[bot.user_id, bob.user_id])
    for member in (bot.user_id, bob.user_id):
        await alice.wait_for_member(room, member)

    code, _card, link = await _start_and_tick(alice, bob, room, bot.user_id)
    db = Database(bot.settings.database_url)
    assert await _status(db, code) == "pending", "the ✅ in chat decided nothing"
    async with db.transaction() as session:
        token = await signin.create_link(session, bob.user_id, minutes=15, clock=SystemClock())

    app = create_app(bot.settings, extra={"step_completion": complete})
    async with serve(app, port), chromium(BROWSER, tmp_path / "profile") as page:
        authenticator = await register_passkey(page, base, token)
        creds = await page.send("WebAuthn.getCredentials", authenticatorId=authenticator["authenticatorId"])
        assert len(creds["credentials"]) == 1

        await page.send("Page.navigate", url=link)
        await page.wait_for("document.body?.dataset.ready === '1'")
        assert "确认签发" in await page.evaluate("document.querySelector('h1').textContent")
        token_part = link.rsplit("/", 1)[1]
        # No assertion at all, then a forged one: refused, the step stays undecided.
        missing = await _post(page, f"/confirm/{token_part}/passkey", {"credential": {}})
        assert missing["status"] == 403, missing
        assert await page.evaluate(FORGED) == 403
        assert await _status(db, code) == "pending"

        await page.evaluate("document.getElementById('use-passkey').click()")
        await page.wait_for("document.getElementById('confirm').dataset.state === 'done'")
        assert "已确认" in await page.evaluate("document.getElementById('status').textContent")
        replay = await page.evaluate("self.__lastAssertion")
        await alice.wait_for_message(room, sender=bot.user_id, contains="已通过", since=0)
        assert await _status(db, code) == "approved"

        # The same assertion again: on its own (used) link, and against a new request.
        again = await _post(page, f"/confirm/{token_part}/passkey", replay)
        assert again["status"] == 410, again
        code2, _card2, link2 = await _start_and_tick(alice, bob, room, bot.user_id)
        token2 = link2.rsplit("/", 1)[1]
        await page.send("Page.navigate", url=link2)
        await page.wait_for("document.body?.dataset.ready === '1'")
        assert (await _post(page, f"/confirm/{token2}/options", {}))["status"] == 200
        replayed = await _post(page, f"/confirm/{token2}/passkey", replay)
        assert replayed["status"] == 403, replayed
        assert await _status(db, code2) == "pending"

        # Removing the passkey from /security: the page first sends bob to confirm with it, then
        # back; being his only one while code2's 签发 waits for it, it is kept, and the page says why.
        await page.send("Page.navigate", url=f"{base}/security")
        await page.wait_for("document.body?.dataset.ready === '1'")
        await page.evaluate("document.querySelector('[data-remove-passkey]').click()")
        await page.wait_for("location.pathname.startsWith('/confirm/') && document.body?.dataset.ready === '1'")
        assert "移除验证方式" in await page.evaluate("document.querySelector('h1').textContent")
        await page.evaluate("document.getElementById('use-passkey').click()")
        await page.wait_for("location.pathname === '/security' && document.body?.dataset.ready === '1'")
        await page.evaluate("document.querySelector('[data-remove-passkey]').click()")
        await page.wait_for("document.getElementById('status').textContent.includes('未能移除')")
        assert code2 in await page.evaluate("document.getElementById('status').textContent")

        # Once that 签发 is confirmed, nothing waits: the passkey goes, and the page says that
        # binding decisions cannot be confirmed until another is added.
        await page.send("Page.navigate", url=link2)
        await page.wait_for("document.body?.dataset.ready === '1'")
        await page.evaluate("document.getElementById('use-passkey').click()")
        await page.wait_for("document.getElementById('confirm').dataset.state === 'done'")
        async with db.reading() as session:
            [used] = list(await session.scalars(select(PasskeyCredential)))
        assert used.user_id == bob.user_id and used.sign_count >= 1
        await page.send("Page.navigate", url=f"{base}/security")
        await page.wait_for("document.body?.dataset.ready === '1'")
        await page.evaluate("document.querySelector('[data-remove-passkey]').click()")
        await page.wait_for("document.getElementById('security')?.dataset.passkeys === '0'")
        assert await page.evaluate("!!document.getElementById('no-factor')")

    async with db.reading() as session:
        assert not list(await session.scalars(select(PasskeyCredential)))
        [passkey] = list(await session.scalars(select(AuditEntry).where(AuditEntry.action == "stepup.passkey_remove")))
        decided = await session.scalar(
            select(AuditEntry).where(AuditEntry.action == "approval.approve", AuditEntry.subject == code)
        )
        refusals = list(await session.scalars(select(AuditEntry).where(AuditEntry.action == "stepup.refused")))
        assert (await audit.verify(session)).ok
    await db.dispose()
    assert passkey.actor == bob.user_id
    assert decided is not None and decided.actor == bob.user_id
    assert decided.data["confirmed_with"] == passkey.data["credential"]
    assert len(refusals) == 3  # missing, forged, replayed
