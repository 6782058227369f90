"""Step-up with a TOTP code (the fallback for phones without passkeys), from the chat's link to
the decided 签发: the real dispatcher asks, the real server (ASGI) confirms through the
application's wiring; codes from pyotp as an authenticator app makes them. On SQLite and
PostgreSQL (the request row is locked, the decision runs in a savepoint)."""

from __future__ import annotations

import re
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import pyotp
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "notifications"))
from push_env import PUBLIC_URL, T0, make_settings

from commands.approvals.models import Approval, ApprovalSigner
from notifications import signin
from records.clock import FrozenClock
from records.config import Settings
from records.db import Database
from records.models import AuditEntry, OutboxMessage
from server.app import create_app
from server.board import BoardAction
from tests.support.dispatch_chat import DispatchChat
from zhiban.board_wiring import WiredBoard
from zhiban.stepup_wiring import complete

BOSS, LEAD, SIGNER = "@boss:office.test", "@lead:office.test", "@sign:office.test"
ROOM = "!office:office.test"
TEMPLATES = {"发文": [{"name": "拟稿", "drafter": True}, {"name": "签发", "users": [SIGNER]}]}
LINK = re.compile(re.escape(PUBLIC_URL) + r"/confirm/([\w-]+)")


def _settings(tmp_path: Path, database_url: str) -> Settings:
    base = make_settings(tmp_path)
    return base.model_copy(
        update={
            "approvals": base.approvals.model_copy(update={"templates": TEMPLATES}),
            "database": base.database.model_copy(update={"url": database_url}),
        }
    )


@asynccontextmanager
async def _office(
    tmp_path: Path, database_url: str, clock: FrozenClock
) -> AsyncIterator[tuple[DispatchChat, httpx.AsyncClient]]:
    settings = _settings(tmp_path, database_url)
    db = Database(settings.database_url)
    chat = DispatchChat(db, clock, room=ROOM, approvals={"templates": TEMPLATES}, server={"public_url": PUBLIC_URL})
    app = create_app(settings, extra={"clock": clock, "step_completion": complete})
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC_URL) as client:
            yield chat, client
    await db.dispose()


async def _sign_in(chat: DispatchChat, client: httpx.AsyncClient, user: str) -> None:
    async with chat.db.transaction() as session:
        token = await signin.create_link(session, user, minutes=15, clock=chat.clock)
    assert (await client.post(f"/push/signin/{token}")).status_code == 303


async def _ask(chat: DispatchChat) -> tuple[str, str, str]:
    """Start a 发文 and ✅ its 签发 in chat: (A-code, the confirmation token, the card's event id)."""
    sent = await chat.say(BOSS, "!审批 发起 发文 关于防汛物资采购的请示")
    card = next(r for r in sent if str(r.content.get("body", "")).startswith("📝 审批 A"))
    code = str(card.content["body"]).split("审批 ", 1)[1].split("：", 1)[0]
    return code, await _tick(chat, f"$out{card.id}"), f"$out{card.id}"


async def _tick(chat: DispatchChat, card: str) -> str:
    """The signer's ✅ on the card: the token of the link the bot answers with."""
    answer = await chat.react(SIGNER, card, "✅")
    match = LINK.search(str(answer[0].content["body"]))
    assert match is not None, answer[0].content
    return match.group(1)


async def _decision(chat: DispatchChat, code: str) -> tuple[str, str | None]:
    async with chat.db.reading() as session:
        approval = await session.get(Approval, int(code[1:]))
        signer = await session.scalar(
            select(ApprovalSigner).where(ApprovalSigner.approval_id == int(code[1:]), ApprovalSigner.user_id == SIGNER)
        )
    assert approval is not None and signer is not None
    return approval.status, signer.decision


async def _enrol(client: httpx.AsyncClient, clock: FrozenClock) -> pyotp.TOTP:
    started = await client.post("/security/totp")
    assert started.status_code == 200, started.text
    secret = started.json()["secret"]
    assert started.json()["uri"].startswith("otpauth://totp/")
    app = pyotp.TOTP(secret)
    wrong = await client.post(
        "/security/totp/confirm", json={"code": "000000" if app.at(clock.now()) != "000000" else "111111"}
    )
    assert wrong.status_code == 403
    done = await client.post("/security/totp/confirm", json={"code": app.at(clock.now())})
    assert done.status_code == 200, done.text
    return app


async def test_a_totp_code_completes_the_sign_off_once(tmp_path: Path, database_url: str) -> None:
    clock = FrozenClock(T0)
    async with _office(tmp_path, database_url, clock) as (chat, client):
        code, token, _ = await _ask(chat)
        # Not signed in: the page says how, and nothing can be posted.
        assert (await client.get(f"/confirm/{token}")).status_code == 401
        assert (await client.post(f"/confirm/{token}/totp", json={"code": "123456"})).status_code == 401

        await _sign_in(chat, client, SIGNER)
        app = await _enrol(client, clock)
        page = await client.get(f"/confirm/{token}")
        assert page.status_code == 200 and "确认签发" in page.text and code in page.text
        assert 'id="use-totp"' in page.text

        # A wrong code, and the code already used to enrol (same 30 s step), decide nothing.
        wrong = str((int(app.at(clock.now())) + 1) % 1_000_000).zfill(6)
        assert (await client.post(f"/confirm/{token}/totp", json={"code": wrong})).status_code == 403
        assert (await client.post(f"/confirm/{token}/totp", json={"code": app.at(clock.now())})).status_code == 403
        assert await _decision(chat, code) == ("pending", None)

        clock.advance(timedelta(seconds=30))
        done = await client.post(f"/confirm/{token}/totp", json={"code": app.at(clock.now())})
        assert done.status_code == 200, done.text
        assert await _decision(chat, code) == ("approved", "approve")

        # Used once: the link and the code are spent.
        again = await client.post(f"/confirm/{token}/totp", json={"code": app.at(clock.now())})
        assert again.status_code == 410 and again.json()["error"] == "used"
        async with chat.db.reading() as session:
            entry = await session.scalar(
                select(AuditEntry).where(AuditEntry.action == "approval.approve", AuditEntry.subject == code)
            )
            enrolled = await session.scalar(select(AuditEntry).where(AuditEntry.action == "stepup.totp_add"))
            edits = list(await session.scalars(select(OutboxMessage).where(OutboxMessage.relation == "m.replace")))
        assert entry is not None and entry.actor == SIGNER and entry.data["confirmed_with"] == "totp"
        assert enrolled is not None and enrolled.actor == SIGNER
        assert edits, "the card in the room is edited through the outbox"


async def test_late_locked_and_foreign_requests_are_refused(tmp_path: Path, database_url: str) -> None:
    clock = FrozenClock(T0)
    async with _office(tmp_path, database_url, clock) as (chat, client):
        code, token, card = await _ask(chat)
        await _sign_in(chat, client, SIGNER)
        app = await _enrol(client, clock)

        # Five wrong codes lock the link; even the right one is then refused.
        for n in range(5):
            wrong = str((int(app.at(clock.now())) + 1 + n) % 1_000_000).zfill(6)
            assert (await client.post(f"/confirm/{token}/totp", json={"code": wrong})).status_code == 403
        clock.advance(timedelta(seconds=30))
        locked = await client.post(f"/confirm/{token}/totp", json={"code": app.at(clock.now())})
        assert locked.status_code == 410 and locked.json()["error"] == "locked"
        assert await _decision(chat, code) == ("pending", None)

        # A fresh link, answered after its 10 minutes.
        late = await _tick(chat, card)
        clock.advance(timedelta(minutes=11))
        expired = await client.post(f"/confirm/{late}/totp", json={"code": app.at(clock.now())})
        assert expired.status_code == 410 and expired.json()["error"] == "expired"
        assert await _decision(chat, code) == ("pending", None)

        # Someone else's browser cannot answer a link that names the signer.
        other = await _tick(chat, card)
        await _sign_in(chat, client, LEAD)
        assert (await client.get(f"/confirm/{other}")).status_code == 403
        foreign = await client.post(f"/confirm/{other}/totp", json={"code": app.at(clock.now())})
        assert foreign.status_code == 403 and foreign.json()["error"] == "other"
        assert await _decision(chat, code) == ("pending", None)


async def test_adding_another_authenticator_asks_for_the_one_already_there(tmp_path: Path, database_url: str) -> None:
    clock = FrozenClock(T0)
    async with _office(tmp_path, database_url, clock) as (chat, client):
        await _sign_in(chat, client, SIGNER)
        app = await _enrol(client, clock)  # the first one needs nothing more than the session

        # A session alone (a stolen one) cannot add a passkey: it is sent to confirm first.
        refused = await client.post("/security/passkey/options")
        assert refused.status_code == 403 and refused.json()["error"] == "confirm_first", refused.text
        confirm = refused.json()["confirm"]
        page = await client.get(confirm)
        assert page.status_code == 200 and "确认添加验证方式" in page.text
        wrong = str((int(app.at(clock.now())) + 1) % 1_000_000).zfill(6)
        assert (await client.post(f"{confirm}/totp", json={"code": wrong})).status_code == 403
        assert (await client.post("/security/passkey/options")).status_code == 403

        clock.advance(timedelta(seconds=30))
        done = await client.post(f"{confirm}/totp", json={"code": app.at(clock.now())})
        assert done.status_code == 200 and done.json()["next"] == "/security", done.text
        options = await client.post("/security/passkey/options")
        assert options.status_code == 200 and options.json()["challenge"], options.text

        # The window closes again after a few minutes.
        clock.advance(timedelta(minutes=6))
        assert (await client.post("/security/passkey/options")).status_code == 403


async def test_approving_the_sign_off_from_the_board_goes_to_its_confirmation(
    tmp_path: Path, database_url: str
) -> None:
    clock = FrozenClock(T0)
    async with _office(tmp_path, database_url, clock) as (chat, client):
        sent = await chat.say(BOSS, "!审批 发起 发文 关于防汛物资采购的请示")
        card = next(r for r in sent if str(r.content.get("body", "")).startswith("📝 审批 A"))
        code = str(card.content["body"]).split("审批 ", 1)[1].split("：", 1)[0]
        board = WiredBoard(chat.settings, chat.db, clock)
        outcome = await board.act(SIGNER, BoardAction(kind="approve", ref=code, key="board-sign-1"))
        assert outcome.status == 200 and outcome.next and outcome.as_json()["next"] == outcome.next, outcome
        assert await _decision(chat, code) == ("pending", None)

        await _sign_in(chat, client, SIGNER)
        app = await _enrol(client, clock)
        page = await client.get(outcome.next)
        assert page.status_code == 200 and "确认签发" in page.text and code in page.text
        clock.advance(timedelta(seconds=30))
        token = outcome.next.rsplit("/", 1)[1]
        done = await client.post(f"/confirm/{token}/totp", json={"code": app.at(clock.now())})
        assert done.status_code == 200, done.text
        assert await _decision(chat, code) == ("approved", "approve")


async def test_a_sign_off_withdrawn_before_its_confirmation_is_refused_in_both_languages(
    tmp_path: Path, database_url: str
) -> None:
    """The drafter withdraws the 发文 while the signer's link is open: confirming then decides
    nothing, and the page's Chinese and English lines each say why in their own language (the
    reason used to come in the request's language only, Chinese on the English line)."""
    clock = FrozenClock(T0)
    async with _office(tmp_path, database_url, clock) as (chat, client):
        code, token, _ = await _ask(chat)
        await _sign_in(chat, client, SIGNER)
        app = await _enrol(client, clock)
        await chat.say(BOSS, f"!撤回 {code}")
        clock.advance(timedelta(seconds=30))
        void = await client.post(f"/confirm/{token}/totp", json={"code": app.at(clock.now())})
        assert void.status_code == 409 and void.json()["error"] == "void", void.text
        zh, en = void.json()["message_zh"], void.json()["message"]
        assert code in zh and code in en, void.text
        assert re.search(r"[\u4e00-\u9fff]", zh) and not re.search(r"[\u4e00-\u9fff]", en), void.text
        assert (await _decision(chat, code))[1] is None
