"""The board (一屏知全局) end to end: a real Synapse and bot, the real server with the features'
source, and headless Chromium at a phone's size (412×915).

- the board in Chinese and in English, saved as screenshots (the folder is printed);
- an approval decided in chat leaves the open board without a reload (Server-Sent Events fed by
  the bot's wake-up after its commit);
- approving from the board edits the card in the Matrix room, and a double tap and a retry of
  the same action make one decision;
- a stranger's board shows nothing of an incident they are not in.
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))
from cdp import Page, chromium, find_chromium, needs_chromium
from live_server import serve

from commands.approvals import service
from emergency.models import Incident
from notifications import signin
from records.clock import SystemClock
from records.db import Database
from records.models import AuditEntry, BoardActionKey
from server.app import create_app
from tests.e2e.conftest import MakeBot
from tests.support.chat_user import ChatUser, Received
from tests.support.fixtures import MakeUser
from zhiban.board_wiring import board_extra

BROWSER = find_chromium()
pytestmark = [
    pytest.mark.e2e,
    needs_chromium(BROWSER),
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "board"
PHONE = {"width": 412, "height": 915, "deviceScaleFactor": 1, "mobile": True}


async def _link(db: Database, user: str) -> str:
    async with db.transaction() as session:
        return await signin.create_link(session, user, minutes=15, clock=SystemClock())


async def _start(alice: ChatUser, room: str, bot_id: str, chain: str) -> tuple[str, str]:
    """alice starts an approval in the room: (its code, the card's event id)."""
    mark = alice.mark()
    await alice.send_text(room, f"!审批 发起 关于防汛物资采购的请示 {chain}")
    card = await alice.wait_for_message(room, sender=bot_id, contains="📝 审批 A", since=mark)
    return (card.body or "").split("审批 ", 1)[1].split("：", 1)[0], card.event_id


async def _screenshot(page: Page, name: str) -> Path:
    shot = await page.send("Page.captureScreenshot", format="png")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    path.write_bytes(base64.b64decode(shot["data"]))
    print(f"board screenshot: {path}")
    return path


def _edit_of(card_id: str, bot_id: str) -> Any:
    def match(item: Received) -> bool:
        relates = item.content.get("m.relates_to") or {}
        return item.sender == bot_id and relates.get("rel_type") == "m.replace" and relates.get("event_id") == card_id

    return match


POST = """fetch("/api/board/actions", {method: "POST", credentials: "same-origin",
  headers: {"Content-Type": "application/json"}, body: JSON.stringify(%s)})
  .then(async r => ({status: r.status, body: await r.json()}))"""


async def test_the_board_on_a_phone_live_and_acting(make_bot: MakeBot, make_user: MakeUser, tmp_path: Path) -> None:
    assert BROWSER is not None
    alice = await make_user("alice")  # duty officer, requester
    bob = await make_user("bob")  # approver, takes no part in the incident
    carol = await make_user("carol")
    eve = await make_user("eve")  # a stranger to everything
    bot = await make_bot(
        e2ee=False,
        server={"public_url": "http://127.0.0.1", "secret_key": "board-test-" + "k" * 24},
        roles={"duty_officer": [alice.user_id]},
    )
    room = await alice.create_room(invite=[bot.user_id, bob.user_id, carol.user_id])
    for member in (bot.user_id, bob.user_id, carol.user_id):
        await alice.wait_for_member(room, member)
    first, first_card = await _start(alice, room, bot.user_id, f"{bob.user_id} > {carol.user_id}")
    second, _ = await _start(alice, room, bot.user_id, f"{bob.user_id} > {carol.user_id}")
    mark = alice.mark()
    await alice.send_text(room, "!应急 启动 Ⅲ 城东内涝")
    await alice.wait_for_message(room, sender=bot.user_id, contains="已启动", since=mark)
    db = Database(bot.settings.database_url)
    async with db.reading() as session:
        incident = (await session.scalars(select(Incident))).one().code
    app = create_app(bot.settings, extra=board_extra(bot.settings))
    async with serve(app) as base, chromium(BROWSER, tmp_path / "profile") as page:
        await page.send("Emulation.setDeviceMetricsOverride", **PHONE)
        await page.send("Page.navigate", url=f"{base}/push/signin/{await _link(db, bob.user_id)}?next=/board")
        await page.wait_for("location.pathname === '/board/' && document.body?.dataset.ready === 'board'")
        await page.wait_for(f"!!document.querySelector('button[data-kind=approve][data-ref={first}]')")
        text = await page.evaluate("document.body.innerText")
        assert "审批" in text and "关于防汛物资采购的请示" in text and "同意" in text
        assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        await _screenshot(page, "board-zh-412x915.png")
        await page.evaluate("document.getElementById('lang').click()")
        await page.wait_for("document.querySelector('h1').textContent === 'Board'")
        # The board itself comes again in English (its texts are the features', in the reader's language).
        await page.wait_for("document.body.innerText.includes('Approvals')")
        await page.wait_for(f"!!document.querySelector('button[data-kind=approve][data-ref={first}]')")
        await _screenshot(page, "board-en-412x915.png")
        await page.send("Emulation.setDeviceMetricsOverride", **{**PHONE, "width": 360})
        assert await page.evaluate("document.documentElement.scrollWidth") <= 360, "readable at 360 px"
        await page.send("Emulation.setDeviceMetricsOverride", **PHONE)
        await page.wait_for("navigator.serviceWorker.getRegistration('/board/').then(r => !!(r && r.active))")

        # Decided in chat: the open board drops the approval's buttons, without a reload.
        await page.evaluate("window.__notReloaded = true")
        second_card = await _card_of(alice, room, bot.user_id, second)
        await bob.react(room, second_card, "✅")
        await page.wait_for(f"!document.querySelector('button[data-ref={second}]')")
        assert await page.evaluate("window.__notReloaded === true")

        # Approving from the board: the form, then the card in the room is edited.
        mark = alice.mark()
        await page.evaluate(f"document.querySelector('button[data-kind=approve][data-ref={first}]').click()")
        await page.wait_for("!!document.querySelector('form.act textarea')")
        await page.evaluate("document.querySelector('form.act textarea').value = '同意，抓紧采购'")
        await page.evaluate("document.querySelector('form.act button[type=submit]').click()")
        await page.wait_for("document.getElementById('notice').textContent.includes('Step 1')")
        await alice.wait_for(_edit_of(first_card, bot.user_id), since=mark)
        await page.wait_for(f"!document.querySelector('button[data-ref={first}]')")

        # A double tap and a retry of one action (one key): one decision.
        third, _ = await _start(alice, room, bot.user_id, f"{bob.user_id} > {carol.user_id}")
        body = json.dumps({"kind": "approve", "ref": third, "key": "double-tap-0001", "opinion": "同意"})
        twice = await page.evaluate(f"Promise.all([{POST % body}, {POST % body}])")
        retry = await page.evaluate(POST % body)
        assert [r["status"] for r in [*twice, retry]] == [200, 200, 200], twice
        assert sorted(r["body"]["replayed"] for r in twice) == [False, True] and retry["body"]["replayed"]

        # A stranger's board, through the same endpoint: nothing of the incident.
        async with httpx.AsyncClient(base_url=base) as stranger:
            signed = await stranger.post(f"/push/signin/{await _link(db, eve.user_id)}?next=/board")
            assert signed.status_code == 303
            theirs = await stranger.get("/api/board")
            mine = await page.evaluate("fetch('/api/board').then(r => r.text())")
        assert theirs.status_code == 200
        assert incident not in theirs.text and "城东内涝" not in theirs.text
        assert incident not in mine and "城东内涝" not in mine, "bob takes no part in the incident either"
        async with httpx.AsyncClient(base_url=base) as officer:
            await officer.post(f"/push/signin/{await _link(db, alice.user_id)}")
            hers = await officer.get("/api/board")
        assert "城东内涝" in hers.text, "the duty officer who declared it sees it"

    async with db.reading() as session:
        approvals_of_third = await session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "approval.approve", AuditEntry.subject == third)
        )
        keys = await session.scalar(select(func.count()).select_from(BoardActionKey))
        first_status = (await service.get_approval(session, service.parse_code(first))).status
    await db.dispose()
    assert approvals_of_third == 1
    assert keys == 2  # the form's action and the double-tapped one
    assert first_status == "pending"  # on to carol's step


async def _card_of(alice: ChatUser, room: str, bot_id: str, code: str) -> str:
    card = await alice.wait_for_message(room, sender=bot_id, contains=f"📝 审批 {code}", since=0)
    return card.event_id
