"""Stale DM notices: once a step or the approval closes, every approver's DM says so.

Each approver's "please decide" DM (ref approval:A<id>:notice:<user>), and every reminder sent
under the same ref, is edited in place (an m.replace outbox row) so that a leader does not act
on a step already decided, the one who decided included. People are shown by display name.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from commands.approvals import service
from commands.approvals.chain import parse_chain
from records import outbox, people
from records.clock import FrozenClock
from records.db import Database
from records.models import OutboxMessage

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
REQ, A, B, C = (f"@{n}:localhost" for n in ("req", "a", "b", "c"))
NAMES = {REQ: "张主任", A: "赵处长", B: "Wang Wei", C: "钱科长"}
ROOM = "!room:localhost"


async def _start(db: Database, clock: FrozenClock, chain: str) -> int:
    async with db.transaction() as session:
        await people.learn_names(session, NAMES)
        approval = await service.start_approval(
            session, requester=REQ, title="关于防汛物资采购的请示", steps=parse_chain(chain), room_id=ROOM, clock=clock
        )
        await outbox.enqueue(session, outbox.text_content("card"), room_id=ROOM, ref=service.card_ref(approval.id))
        return approval.id


async def _notice_edits(db: Database, aid: int, user: str, *, copy: int = -1) -> list[str]:
    """The new bodies of every edit of `user`'s DM notice (the last copy sent, or `copy`),
    oldest first."""
    async with db.reading() as session:
        copies = list(
            await session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.ref == service.notice_ref(aid, user), OutboxMessage.relation.is_(None))
                .order_by(OutboxMessage.id)
            )
        )
        if not copies:
            return []
        original = copies[copy]
        rows = await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.relates_to_outbox_id == original.id, OutboxMessage.relation == "m.replace")
            .order_by(OutboxMessage.id)
        )
        return [r.content["m.new_content"]["body"] for r in rows]


async def test_any_step_sibling_notice_is_edited_to_handled_by(db: Database) -> None:
    clock = FrozenClock(T0)
    aid = await _start(db, clock, f"{A} | {B} > {C}")
    async with db.transaction() as session:
        (await people.ensure_person(session, B)).lang = "en"  # B reads the edit in English
        assert (await service.decide(session, aid, A, True, "", clock)).event == "step_done"
    # The one who acted is told their DM needs nothing more, in case they decided on the card.
    assert await _notice_edits(db, aid, A) == [
        f"☑️ 审批 A{aid}「关于防汛物资采购的请示」（第1步）：您已同意，无需再操作。"
    ]
    edits = await _notice_edits(db, aid, B)
    assert len(edits) == 1
    assert "handled by 赵处长" in edits[0] and "approved" in edits[0] and f"A{aid}" in edits[0]
    assert A not in edits[0]  # a name, never the Matrix ID
    assert await _notice_edits(db, aid, C) == []  # C's own ask is new, not an edit


async def test_reject_in_all_step_closes_the_others_notices(db: Database) -> None:
    clock = FrozenClock(T0)
    aid = await _start(db, clock, f"{A} & {B}")
    async with db.transaction() as session:
        assert (await service.decide(session, aid, A, False, "预算不足", clock)).event == "rejected"
    edits = await _notice_edits(db, aid, B)
    assert len(edits) == 1 and "已由 赵处长 处理（驳回）" in edits[0]


async def test_withdraw_edits_the_waiting_notices(db: Database) -> None:
    clock = FrozenClock(T0)
    aid = await _start(db, clock, f"{A} & {B}")
    async with db.transaction() as session:
        await service.decide(session, aid, A, True, "", clock)
        await service.withdraw(session, aid, REQ, clock)
    assert len(await _notice_edits(db, aid, A)) == 1  # "您已同意", not "已撤回": A had decided
    edits = await _notice_edits(db, aid, B)
    assert len(edits) == 1 and "已撤回" in edits[0]


async def test_return_then_end_edits_the_returned_approvers_notice(db: Database) -> None:
    clock = FrozenClock(T0)
    aid = await _start(db, clock, f"{A} > {B} & {C}")
    async with db.transaction() as session:
        await service.decide(session, aid, A, True, "", clock)
        await service.return_step(session, aid, B, "请补充", clock)
    edits = await _notice_edits(db, aid, C)
    assert len(edits) == 1 and "已由 Wang Wei 退回" in edits[0]
    assert await _notice_edits(db, aid, B) == []
    async with db.transaction() as session:
        await service.decide(session, aid, A, False, "不再需要", clock)
    ended = await _notice_edits(db, aid, C)
    assert len(ended) == 2 and "已结束（已驳回）" in ended[1]
    assert "已结束" in (await _notice_edits(db, aid, B))[-1]


async def test_every_copy_of_a_request_is_edited_when_decided(db: Database) -> None:
    """The request and the reminder sent under the same ref both stop asking once A decides."""
    clock = FrozenClock(T0)
    aid = await _start(db, clock, f"{A} > {B}")
    async with db.transaction() as session:
        await people.ensure_person(session, A)
        await outbox.enqueue(session, outbox.text_content("⏰ reminder"), to_user=A, ref=service.notice_ref(aid, A))
    async with db.transaction() as session:
        await service.decide(session, aid, A, True, "", clock)
    first, reminder = await _notice_edits(db, aid, A, copy=0), await _notice_edits(db, aid, A, copy=-1)
    assert len(first) == 1 and "您已同意" in first[0]
    assert reminder == first
