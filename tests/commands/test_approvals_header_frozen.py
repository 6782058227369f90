"""A decided approval is a record: its header (密级, 紧急程度, 发文字号) no longer changes."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from commands.approvals import service
from commands.approvals.chain import parse_chain
from commands.approvals.models import Approval
from commands.approvals.texts import TEXTS
from records.clock import FrozenClock
from records.db import Database
from records.errors import NotAllowed
from records.models import AuditEntry
from tests.commands.test_tasks_chat import BOSS, LEAD, ROOM, T0, Chat

pytestmark = pytest.mark.asyncio


async def _approval(db: Database, clock: FrozenClock, *, decide: bool | None) -> tuple[int, str]:
    async with db.transaction() as session:
        approval = await service.start_approval(
            session, requester=BOSS, title="关于防汛值班的通知", steps=parse_chain(LEAD), room_id=ROOM, clock=clock
        )
        await service.set_header(session, approval.id, BOSS, "secrecy", "秘密", clock)
        await service.set_header(session, approval.id, BOSS, "doc_number", "办发〔2026〕7号", clock)
    if decide is not None:
        async with db.transaction() as session:
            await service.decide(session, approval.id, LEAD, decide, "同意", clock)
    return approval.id, approval.code


async def _header(db: Database, approval_id: int) -> tuple[str | None, str | None, str | None, int]:
    async with db.reading() as session:
        approval = await session.get(Approval, approval_id)
        assert approval is not None
        audits = await session.scalar(select(func.count()).select_from(AuditEntry))
        return approval.secrecy, approval.urgency, approval.doc_number, int(audits or 0)


@pytest.mark.parametrize("decision", [True, False])
async def test_header_of_a_final_approval_is_refused_in_chat(db: Database, decision: bool) -> None:
    clock = FrozenClock(T0)
    chat = Chat(db, clock)
    approval_id, code = await _approval(db, clock, decide=decision)
    before = await _header(db, approval_id)

    for field, value in (("密级", "绝密"), ("紧急程度", "特急"), ("发文字号", "办发〔2026〕99号")):
        body = await chat.reply_to(BOSS, f"!审批 设置 {code} {field} {value}")
        assert body.startswith("⚠️") and "Traceback" not in body, body
        assert code in body and "定稿" in body, body

    assert await _header(db, approval_id) == before  # nothing changed, nothing audited


async def test_header_of_an_open_approval_can_still_be_set(db: Database) -> None:
    clock = FrozenClock(T0)
    chat = Chat(db, clock)
    approval_id, code = await _approval(db, clock, decide=None)
    body = await chat.reply_to(BOSS, f"!审批 设置 {code} 密级 机密")
    assert not body.startswith("⚠️"), body
    assert (await _header(db, approval_id))[0] == "机密"


async def test_service_refuses_after_withdrawal_too(db: Database) -> None:
    clock = FrozenClock(T0)
    approval_id, _ = await _approval(db, clock, decide=None)
    async with db.transaction() as session:
        await service.withdraw(session, approval_id, BOSS, clock)
    with pytest.raises(NotAllowed) as caught:
        async with db.transaction() as session:
            await service.set_header(session, approval_id, BOSS, "doc_number", "改号", clock)
    assert caught.value.key == "approval.header_frozen"
    assert set(TEXTS["approval.header_frozen"]) == {"zh", "en"}
