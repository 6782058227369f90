"""`!安全` / `!security`: anyone sees their own step-up authenticators; an admin resets
someone's whose only one was a lost phone. Through the real dispatcher (every feature, the
exactly-once ledger), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.types import Message
from commands.security.service import CODE_PLACEHOLDER
from notifications import sessions
from records.clock import FrozenClock
from records.db import Database
from records.models import AuditEntry, OutboxMessage, Person
from records.outbox import SECRETS_KEY
from records.stepup import RESET_CODE, PasskeyCredential, StepUpRequest, TotpSecret, reset_code_state, waiting_for
from tests.commands.test_approvals_stepup_chat import PUBLIC_URL, SIGNER, _decided, _start, _templates
from tests.commands.test_tasks_chat import LEAD, ROOM, T0
from tests.support.dispatch_chat import DispatchChat

ADMIN = "@admin:localhost"
STRANGER = "@eve:localhost"


def _chat(db: Database) -> DispatchChat:
    return DispatchChat(
        db,
        FrozenClock(T0),
        room=ROOM,
        roles={"admin": [ADMIN]},
        approvals={"templates": _templates()},
        server={"public_url": PUBLIC_URL},
    )


async def _enrol(db: Database, user: str, *, passkeys: int, totp: bool) -> None:
    async with db.transaction() as session:
        for n in range(passkeys):
            session.add(
                PasskeyCredential(
                    user_id=user, credential_id=f"cred-{user}-{n}", public_key=b"k", sign_count=0, created_at=T0
                )
            )
        if totp:
            session.add(TotpSecret(user_id=user, secret="JBSWY3DPEHPK3PXP", created_at=T0, confirmed_at=T0))


async def _factors(db: Database, user: str) -> tuple[int, bool]:
    async with db.reading() as session:
        keys = list(await session.scalars(select(PasskeyCredential).where(PasskeyCredential.user_id == user)))
        return len(keys), await session.get(TotpSecret, user) is not None


async def _resets(db: Database) -> list[AuditEntry]:
    async with db.reading() as session:
        return [a for a in await session.scalars(select(AuditEntry)) if a.action == "stepup.reset"]


async def test_anyone_sees_their_own_authenticators_and_the_page(db: Database) -> None:
    chat = _chat(db)
    none = await chat.reply_to(STRANGER, "!安全")
    assert "还没有验证方式" in none and f"{PUBLIC_URL}/security" in none
    await _enrol(db, STRANGER, passkeys=2, totp=True)
    shown = await chat.reply_to(STRANGER, "!安全")
    assert "通行密钥 2 个" in shown and "动态验证码：已开启" in shown and f"{PUBLIC_URL}/security" in shown
    await chat.say(STRANGER, "!lang en")
    english = await chat.reply_to(STRANGER, "!security")
    assert "passkeys: 2" in english and "one-time codes: on" in english


async def test_a_wrong_word_gets_usage_and_a_near_miss_is_named(db: Database) -> None:
    chat = _chat(db)
    near = await chat.reply_to(ADMIN, f"!安全 重制 {SIGNER}")
    assert "重制" in near and "重置" in near, near
    wrong = await chat.reply_to(ADMIN, "!security frobnicate")
    # The Chinese reply names the Chinese sub-command, however the command was spelled.
    assert "frobnicate" in wrong and "重置" in wrong and "reset" not in wrong, wrong
    who = await chat.reply_to(ADMIN, "!安全 重置")
    assert "请指明一个人" in who
    # A short @name is completed on the office's server, as everywhere; it is named in the answer.
    unknown = await chat.reply_to(ADMIN, "!安全 重置 @nobody")
    assert "@nobody:localhost" in unknown and "无需重置" in unknown


async def test_only_an_admin_resets_and_not_their_own(db: Database) -> None:
    chat = _chat(db)
    await _enrol(db, SIGNER, passkeys=1, totp=False)
    await _enrol(db, ADMIN, passkeys=1, totp=False)
    refused = await chat.reply_to(STRANGER, f"!安全 重置 {SIGNER}")
    assert "只有管理员" in refused and "用法" not in refused
    await chat.say(STRANGER, "!lang en")
    assert "Only an admin" in await chat.reply_to(STRANGER, f"!security reset {SIGNER}")
    assert "不能重置自己的" in await chat.reply_to(ADMIN, f"!安全 重置 {ADMIN}")
    assert await _factors(db, SIGNER) == (1, False) and await _factors(db, ADMIN) == (1, False)
    assert await _resets(db) == []


async def test_an_admin_resets_a_lost_phone_and_the_waiting_sign_off_stays(db: Database) -> None:
    chat = _chat(db)
    code, card = await _start(chat)
    await chat.react(LEAD, card, "✅")
    await chat.react(SIGNER, card, "✅")  # 签发 binds: a confirmation link, nothing decided
    await _enrol(db, SIGNER, passkeys=1, totp=True)
    async with db.transaction() as session:
        await sessions.start(session, SIGNER, days=30, clock=chat.clock)

    # The same event delivered twice (a sync retried after a crash) resets and tells once.
    message = Message(
        room_id=ROOM, event_id="$reset1", sender=ADMIN, timestamp_ms=1, source={}, body=f"!安全 重置 {SIGNER}"
    )
    await chat.dispatcher.feed(message)
    await chat.dispatcher.feed(message)
    async with db.reading() as session:
        sent = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    [reply] = [r for r in sent if r.room_id == ROOM and "已重置" in str(r.content.get("body"))]
    body = str(reply.content["body"])
    assert SIGNER in body and "通行密钥 1 个" in body and "1 个看板登录" in body
    assert f"{code} 签发" in body and "仍然保留" in body, body
    [dm] = [r for r in sent if r.to_user == SIGNER and "重置" in str(r.content.get("body"))]
    told = str(dm.content["body"])
    assert ADMIN in told and f"{PUBLIC_URL}/security" in told and "!推送" in told and f"{code} 签发" in told

    assert await _factors(db, SIGNER) == (0, False)
    [entry] = await _resets(db)
    assert (entry.actor, entry.subject) == (ADMIN, SIGNER)
    assert entry.data["passkeys"] == [f"cred-{SIGNER}-0"] and entry.data["totp"] is True
    assert entry.data["sessions"] == 1
    # The 签发 is still undecided and its request still open: they enrol again and confirm.
    assert await _decided(db, SIGNER) == [None]
    async with db.reading() as session:
        [request] = list(
            await session.scalars(
                select(StepUpRequest).where(StepUpRequest.user_id == SIGNER, StepUpRequest.kind != RESET_CODE)
            )
        )
        assert request.used_at is None
        assert [r.id for r in await waiting_for(session, SIGNER, T0 + timedelta(minutes=1), 5)] == [request.id]
        assert await sessions.count_for(session, SIGNER, clock=chat.clock) == 0

    # The enrolment code went to the admin alone (by DM, kept out of the stored body), and the
    # DM to the person (whose chat account the finder may hold) says to ask for it by phone.
    [handed] = [r for r in sent if r.to_user == ADMIN]
    code_one = handed.content[SECRETS_KEY][CODE_PLACEHOLDER]
    assert CODE_PLACEHOLDER in str(handed.content["body"]) and SIGNER in str(handed.content["body"])
    assert "电话或当面" in str(handed.content["body"]) and "登记码已私信发给您" in body
    assert "登记码" in told and code_one not in told and code_one not in body
    async with db.reading() as session:
        assert await reset_code_state(session, SIGNER, T0, 5) == "needed"

    # Nothing left to remove, but the code is still out: a second reset hands a new one.
    await chat.say(ADMIN, "!lang en")
    again = await chat.say(ADMIN, f"!security reset {SIGNER}")
    [handed_again] = [r for r in again if r.to_user == ADMIN]
    assert handed_again.content[SECRETS_KEY][CODE_PLACEHOLDER] != code_one
    assert str(handed_again.content["body"]).startswith(f"🔐 Enrolment code for {SIGNER}")
    assert len(await _resets(db)) == 2


async def test_the_person_is_told_in_their_own_language(db: Database) -> None:
    chat = _chat(db)
    await _enrol(db, SIGNER, passkeys=0, totp=True)
    await chat.say(SIGNER, "!lang en")
    async with db.transaction() as session:
        person = await session.get(Person, SIGNER)
        assert person is not None
        person.display_name = "王签发"
    sent = await chat.say(ADMIN, "!安全 重置 @王签发")  # by the name the office knows
    [dm] = [r for r in sent if r.to_user == SIGNER]
    told = str(dm.content["body"])
    assert told.startswith(f"🔐 Admin {ADMIN} reset the authenticators") and "Send !push" in told


async def test_a_bare_reset_sent_as_a_reply_resets_nobody(db: Database) -> None:
    # A reply's m.mentions (and its quoted fallback) name the person replied to: a bare
    # `!安全 重置` sent as a reply to their message must not take them as the target.
    chat = _chat(db)
    await _enrol(db, SIGNER, passkeys=1, totp=False)
    reply = Message(
        room_id=ROOM,
        event_id="$reply-reset",
        sender=ADMIN,
        timestamp_ms=1,
        source={},
        body="!安全 重置",
        mentions=[SIGNER],
    )
    await chat.dispatcher.feed(reply)
    async with db.reading() as session:
        sent = [str(r.content.get("body")) for r in await session.scalars(select(OutboxMessage))]
    assert any("请指明一个人" in body for body in sent), sent
    assert await _factors(db, SIGNER) == (1, False) and await _resets(db) == []
