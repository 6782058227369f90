"""Binding steps in chat: a ✅ (or `!同意`) on 签发 of a 发文 answers with the link to confirm
on the phone and decides nothing; a step that does not bind still decides at once. Through the
real dispatcher, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from commands.approvals import service
from commands.approvals.models import ApprovalSigner
from records.clock import FrozenClock
from records.db import Database
from records.models import AuditEntry
from records.stepup import CONFIRM_PATH, StepUpRequest
from server.board import BoardAction
from tests.commands.test_tasks_chat import BOSS, EVE, LEAD, ROOM, T0
from tests.support.dispatch_chat import DispatchChat
from zhiban.board_wiring import WiredBoard

SIGNER = "@sign:localhost"
PUBLIC_URL = "https://duty.office.test"


def _templates(**confirm: bool) -> dict[str, Any]:
    return {
        "发文": [
            {"name": "拟稿", "drafter": True},
            {"name": "核稿", "users": [LEAD], "confirm": confirm.get("review", False)},
            {"name": "签发", "users": [SIGNER]},
        ]
    }


def _chat(db: Database, *, sign_off: bool = True, **confirm: bool) -> DispatchChat:
    return DispatchChat(
        db,
        FrozenClock(T0),
        room=ROOM,
        approvals={"templates": _templates(**confirm)},
        stepup={"sign_off": sign_off},
        server={"public_url": PUBLIC_URL},
    )


async def _start(chat: DispatchChat) -> tuple[str, str]:
    """(A-code, the card's event id) of a new 发文."""
    sent = await chat.say(BOSS, "!审批 发起 发文 关于防汛物资采购的请示")
    card = next(r for r in sent if str(r.content.get("body", "")).startswith("📝 审批 A"))
    code = str(card.content["body"]).split("审批 ", 1)[1].split("：", 1)[0]
    return code, f"$out{card.id}"


async def _decided(db: Database, user: str) -> list[str | None]:
    async with db.reading() as session:
        return [s.decision for s in await session.scalars(select(ApprovalSigner).where(ApprovalSigner.user_id == user))]


async def test_a_tick_on_sign_off_answers_with_the_link_and_decides_nothing(db: Database) -> None:
    chat = _chat(db)
    code, card = await _start(chat)
    # 核稿 does not bind: the ✅ decides at once, as before.
    await chat.react(LEAD, card, "✅")
    assert await _decided(db, LEAD) == ["approve"]

    sent = await chat.react(SIGNER, card, "✅")
    [answer] = [r for r in sent if r.relation != "m.replace"]
    body = str(answer.content["body"])
    # In the shared room it names and mentions the signer, who alone must act on it.
    assert body.startswith(
        f"sign，{code} 的“签发”需要在手机上确认，尚未作出决定。在手机上确认签发：{PUBLIC_URL}{CONFIRM_PATH}"
    ), body
    assert answer.content["m.mentions"] == {"user_ids": [SIGNER]}
    assert "（10 分钟内有效）" in body
    assert ">在手机上确认签发</a>" in str(answer.content["formatted_body"])
    assert not [r for r in sent if r.relation == "m.replace"], "the card is not edited"
    assert await _decided(db, SIGNER) == [None]

    async with db.reading() as session:
        [request] = list(await session.scalars(select(StepUpRequest)))
        asked = await session.scalar(select(AuditEntry).where(AuditEntry.action == "approval.confirm_asked"))
        approval = await service.get_approval(session, request.record_id)
    assert (request.user_id, request.subject, request.step, request.used_at) == (SIGNER, code, "签发", None)
    assert (request.expires_at - request.created_at).total_seconds() == 600
    assert asked is not None and asked.actor == SIGNER
    assert approval.status == "pending"

    # The command says the same; a typed opinion is kept for the confirmation.
    reply = await chat.reply_to(SIGNER, f"!同意 {code} 同意印发")
    assert "需要在手机上确认" in reply and await _decided(db, SIGNER) == [None]
    async with db.reading() as session:
        opinions = [r.opinion for r in await session.scalars(select(StepUpRequest).order_by(StepUpRequest.id))]
    assert opinions == ["", "同意印发"]


async def test_a_rejection_and_a_stranger_are_answered_as_before(db: Database) -> None:
    chat = _chat(db)
    code, card = await _start(chat)
    await chat.react(LEAD, card, "✅")
    assert f"没有找到审批 {code}" in await chat.reply_to(EVE, f"!同意 {code}")  # need-to-know: no link
    reply = await chat.reply_to(SIGNER, f"!驳回 {code} 数字有误")
    assert reply.startswith(f"❌ {code} 已驳回"), reply
    async with db.reading() as session:
        assert list(await session.scalars(select(StepUpRequest))) == []


async def test_steps_marked_confirm_bind_and_the_switch_turns_sign_off_off(db: Database) -> None:
    chat = _chat(db, sign_off=False, review=True)
    code, card = await _start(chat)
    sent = await chat.react(LEAD, card, "✅")
    assert any("在手机上确认核稿" in str(r.content.get("body", "")) for r in sent)
    assert await _decided(db, LEAD) == [None]
    # Confirmed (as the page would), 核稿 is done and 签发, no longer binding, decides at once.
    async with db.transaction() as session:
        await service.decide(session, int(code[1:]), LEAD, True, "", chat.clock, confirmed_with="totp")
    await chat.react(SIGNER, card, "✅")
    assert await _decided(db, SIGNER) == ["approve"]


async def test_the_board_opens_the_confirmation_of_a_binding_step(db: Database) -> None:
    chat = _chat(db)
    code, card = await _start(chat)
    await chat.react(LEAD, card, "✅")
    board = WiredBoard(chat.settings, db, chat.clock)

    outcome = await board.act(SIGNER, BoardAction(kind="approve", ref=code, key="sign-0001-x"))
    assert outcome.status == 200 and outcome.next and outcome.next.startswith(CONFIRM_PATH), outcome
    assert "需要在手机上确认" in outcome.message and "签发" in outcome.message, outcome.message
    assert await _decided(db, SIGNER) == [None]
    # A double tap or a retry: the same request and the same page, nothing decided.
    again = await board.act(SIGNER, BoardAction(kind="approve", ref=code, key="sign-0001-x"))
    assert again.replayed and again.next == outcome.next
    async with db.reading() as session:
        requests = list(await session.scalars(select(StepUpRequest)))
    assert [(r.user_id, r.subject, r.step) for r in requests] == [(SIGNER, code, "签发")]
    assert await _decided(db, SIGNER) == [None]
