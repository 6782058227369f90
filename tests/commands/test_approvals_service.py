"""Approvals at the service level, on SQLite and PostgreSQL: chains, rules, races, timers, audit."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from commands.approvals import service
from commands.approvals.chain import StepSpec, parse_chain
from commands.approvals.models import ApprovalSigner
from commands.approvals.policy import ApprovalPolicy
from records import audit, outbox
from records.clock import FrozenClock
from records.config import Settings
from records.db import Database
from records.errors import DomainError, NotAllowed
from records.models import OutboxMessage, Timer
from records.timers import TimerPump, run_timer
from zhiban.app import build_timers

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
REQ, A, B, C, D, EVE = (f"@{n}:localhost" for n in ("req", "a", "b", "c", "d", "eve"))
ROOM = "!room:localhost"


async def _start(db: Database, clock: FrozenClock, chain: str, **kwargs: object) -> int:
    async with db.transaction() as session:
        approval = await service.start_approval(
            session,
            requester=REQ,
            title="关于防汛物资采购的请示",
            steps=parse_chain(chain),
            room_id=ROOM,
            clock=clock,
            **kwargs,  # type: ignore[arg-type]
        )
        # What the chat handler does: post the card under its ref, so edits have a target.
        content = outbox.text_content("card")
        await outbox.enqueue(session, content, room_id=ROOM, ref=service.card_ref(approval.id))
        return approval.id


async def _decide(db: Database, clock: FrozenClock, aid: int, who: str, yes: bool = True, opinion: str = "") -> str:
    async with db.transaction() as session:
        return (await service.decide(session, aid, who, yes, opinion, clock)).event


async def _status(db: Database, aid: int) -> str:
    async with db.reading() as session:
        return (await service.get_approval(session, aid)).status


async def _dms(db: Database, user: str) -> list[str]:
    async with db.reading() as session:
        rows = await session.scalars(
            select(OutboxMessage).where(OutboxMessage.to_user == user).order_by(OutboxMessage.id)
        )
        return [r.content["body"] for r in rows]


async def test_sequence_chain_happy_path(db: Database) -> None:
    clock = FrozenClock(T0)
    aid = await _start(db, clock, f"{A} > {B}")
    assert len(await _dms(db, A)) == 1 and await _dms(db, B) == []
    assert await _decide(db, clock, aid, A, True, "拟同意") == "step_done"
    assert len(await _dms(db, B)) == 1  # B is asked only once A has approved
    assert await _decide(db, clock, aid, B) == "approved"
    assert await _status(db, aid) == "approved"
    requester_dms = await _dms(db, REQ)
    assert any("拟同意" in m for m in requester_dms)
    assert any("已通过" in m for m in requester_dms)
    async with db.reading() as session:
        edits = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.relation == "m.replace", OutboxMessage.to_user.is_(None))
        )
        assert edits == 2  # one edit per change once the card is posted: step done, approved
        dm_edits = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.relation == "m.replace", OutboxMessage.to_user.is_not(None))
        )
        assert dm_edits == 2  # A's and B's requests each say they decided
        last = await session.scalar(
            select(OutboxMessage)
            .where(OutboxMessage.relation == "m.replace", OutboxMessage.to_user.is_(None))
            .order_by(OutboxMessage.id.desc())
        )
        assert last is not None
        card = last.content["m.new_content"]
        assert "已通过" in card["body"] and "拟同意" in card["body"]
        assert all(f'href="https://matrix.to/#/{who}"' in card["formatted_body"] for who in (A, B))
        assert (await audit.verify(session)).ok


async def test_all_step_needs_everyone(db: Database) -> None:
    clock = FrozenClock(T0)
    aid = await _start(db, clock, f"{A} & {B} > {C}")
    assert len(await _dms(db, A)) == 1 and len(await _dms(db, B)) == 1
    assert await _decide(db, clock, aid, A) == "recorded"
    assert await _dms(db, C) == []
    assert await _decide(db, clock, aid, B) == "step_done"
    assert len(await _dms(db, C)) == 1
    assert await _decide(db, clock, aid, C) == "approved"


async def test_any_step_needs_one(db: Database) -> None:
    clock = FrozenClock(T0)
    aid = await _start(db, clock, f"{A} | {B}")
    assert await _decide(db, clock, aid, B) == "approved"
    with pytest.raises(NotAllowed) as caught:
        await _decide(db, clock, aid, A)
    assert caught.value.key == "approval.closed"


async def test_any_step_sibling_is_told_it_is_done(db: Database) -> None:
    clock = FrozenClock(T0)
    aid = await _start(db, clock, f"{A} | {B} > {C}")
    assert await _decide(db, clock, aid, A) == "step_done"
    with pytest.raises(NotAllowed) as caught:
        await _decide(db, clock, aid, B)
    assert caught.value.key == "approval.step_already_done"


async def test_reject_needs_a_reason_and_is_final(db: Database) -> None:
    clock = FrozenClock(T0)
    aid = await _start(db, clock, f"{A} > {B}", cc=[D])
    with pytest.raises(DomainError) as caught:
        await _decide(db, clock, aid, A, False, "  ")
    assert caught.value.key == "approval.need_reason"
    assert await _status(db, aid) == "pending"
    assert await _decide(db, clock, aid, A, False, "预算超标") == "rejected"
    assert await _status(db, aid) == "rejected"
    assert any("预算超标" in m for m in await _dms(db, REQ))
    assert any("抄送" in m and "驳回" in m for m in await _dms(db, D))  # CC told at the end
    with pytest.raises(NotAllowed):
        await _decide(db, clock, aid, B)


async def test_only_current_approvers_decide(db: Database) -> None:
    clock = FrozenClock(T0)
    aid = await _start(db, clock, f"{A} & {B} > {C}")
    cases = [(EVE, "approval.not_approver"), (C, "approval.not_your_turn"), (REQ, "approval.self_approval_act")]
    for who, key in cases:
        with pytest.raises(NotAllowed) as caught:
            await _decide(db, clock, aid, who)
        assert caught.value.key == key, who
    await _decide(db, clock, aid, A)
    with pytest.raises(NotAllowed) as caught:  # a decision is final
        await _decide(db, clock, aid, A, False, "改主意")
    assert caught.value.key == "approval.already_decided"


async def test_self_approval_refused_at_start(db: Database) -> None:
    clock = FrozenClock(T0)
    with pytest.raises(DomainError) as caught:
        await _start(db, clock, f"{A} > {REQ}")
    assert caught.value.key == "approval.self_approval"
    with pytest.raises(DomainError) as caught:
        async with db.transaction() as session:
            await service.start_approval(
                session, requester=REQ, title="x" * 300, steps=parse_chain(A), room_id=ROOM, clock=clock
            )
    assert caught.value.key == "approval.title_too_long"


async def test_transfer(db: Database) -> None:
    clock = FrozenClock(T0)
    aid = await _start(db, clock, f"{A} > {B}")
    async with db.transaction() as session:
        with pytest.raises(NotAllowed):
            await service.transfer(session, aid, A, REQ, clock)  # never to the requester
    async with db.transaction() as session:
        assert (await service.transfer(session, aid, A, D, clock)).event == "transferred"
    assert any("转交" in m for m in await _dms(db, D))
    with pytest.raises(NotAllowed):
        await _decide(db, clock, aid, A)  # handed on: no longer A's turn
    assert await _decide(db, clock, aid, D) == "step_done"
    assert await _decide(db, clock, aid, B) == "approved"


async def test_add_signer_before_and_after(db: Database) -> None:
    clock = FrozenClock(T0)
    aid = await _start(db, clock, f"{A} > {B}")
    async with db.transaction() as session:
        assert (await service.add_signer(session, aid, A, C, "before", clock)).event == "added_before"
    with pytest.raises(NotAllowed) as caught:
        await _decide(db, clock, aid, A)  # C decides first now
    assert caught.value.key == "approval.not_your_turn"
    assert await _decide(db, clock, aid, C) == "step_done"
    async with db.transaction() as session:
        await service.add_signer(session, aid, A, D, "after", clock)
    assert await _decide(db, clock, aid, A) == "step_done"
    with pytest.raises(NotAllowed):
        await _decide(db, clock, aid, B)  # D comes before B
    assert await _decide(db, clock, aid, D) == "step_done"
    assert await _decide(db, clock, aid, B) == "approved"
    async with db.reading() as session:
        order = [s.signers[0].user_id for s in await service.load_steps(session, aid)]
    assert order == [C, A, D, B]


async def test_return_to_previous_step_and_to_drafter(db: Database) -> None:
    clock = FrozenClock(T0)
    aid = await _start(db, clock, f"{A} > {B}")
    await _decide(db, clock, aid, A, True, "第一次意见")
    async with db.transaction() as session:
        with pytest.raises(DomainError):
            await service.return_step(session, aid, B, "", clock)
    async with db.transaction() as session:
        assert (await service.return_step(session, aid, B, "请补充预算明细", clock)).event == "returned"
    assert any("请补充预算明细" in m for m in await _dms(db, A))
    # A decides again (the earlier opinion stays in the history, not on the signer).
    async with db.transaction() as session:
        assert (await service.return_step(session, aid, A, "退回拟稿人修改", clock)).event == "returned_drafter"
    assert await _status(db, aid) == "returned"
    async with db.transaction() as session:
        await service.resubmit(session, aid, REQ, clock)
    assert await _decide(db, clock, aid, A) == "step_done"
    assert await _decide(db, clock, aid, B) == "approved"
    async with db.reading() as session:
        actions = [h.action for h in await service.history(session, aid)]
        assert actions == ["start", "approve", "return", "return", "resubmit", "approve", "approve"]
        assert (await audit.verify(session)).ok


async def test_withdraw(db: Database) -> None:
    clock = FrozenClock(T0)
    aid = await _start(db, clock, f"{A} > {B}")
    async with db.transaction() as session:
        with pytest.raises(NotAllowed) as caught:
            await service.withdraw(session, aid, A, clock)
        assert caught.value.key == "approval.requester_only"
    async with db.transaction() as session:
        assert (await service.withdraw(session, aid, REQ, clock)).notified == [A]
    assert await _status(db, aid) == "withdrawn"
    assert any("撤回" in m for m in await _dms(db, A))
    with pytest.raises(NotAllowed):
        await _decide(db, clock, aid, A)
    async with db.transaction() as session:
        with pytest.raises(NotAllowed):
            await service.withdraw(session, aid, REQ, clock)  # nothing left to withdraw


async def test_nudge_is_rate_limited(db: Database) -> None:
    clock = FrozenClock(T0)
    aid = await _start(db, clock, f"{A} & {B}", policy=ApprovalPolicy(nudge_interval_minutes=10))
    await _decide(db, clock, aid, A)
    async with db.transaction() as session:
        assert (await service.nudge(session, aid, REQ, clock)).notified == [B]
    clock.advance(timedelta(minutes=3))
    async with db.transaction() as session:
        with pytest.raises(DomainError) as caught:
            await service.nudge(session, aid, REQ, clock)
        assert caught.value.key == "approval.nudge_too_soon" and caught.value.params["minutes"] == 7
    clock.advance(timedelta(minutes=8))
    async with db.transaction() as session:
        await service.nudge(session, aid, REQ, clock)
    assert sum("催办" in m for m in await _dms(db, B)) == 2
    async with db.transaction() as session:
        with pytest.raises(NotAllowed):
            await service.nudge(session, aid, A, clock)


@pytest.mark.parametrize("rounds", [5])
async def test_concurrent_any_approvals_give_one_decision(db: Database, rounds: int) -> None:
    """Two 或签 approvers press ✅ at the same moment: one decision, the other is told it is done."""
    clock = FrozenClock(T0)
    for _ in range(rounds):
        aid = await _start(db, clock, f"{A} | {B} > {C}")

        async def press(who: str, aid: int = aid) -> str:
            try:
                return await _decide(db, clock, aid, who)
            except NotAllowed as exc:
                return exc.key

        results = sorted(await asyncio.gather(press(A), press(B)))
        assert results == ["approval.step_already_done", "step_done"]
        async with db.reading() as session:
            decided = await session.scalar(
                select(func.count())
                .select_from(ApprovalSigner)
                .where(ApprovalSigner.approval_id == aid, ApprovalSigner.decision == "approve")
            )
            assert decided == 1
            assert len([m for m in await _dms(db, C) if f"A{aid}" in m]) == 1  # C asked once
    async with db.reading() as session:
        assert (await audit.verify(session)).ok


async def test_step_reminders_then_requester_told(db: Database) -> None:
    clock = FrozenClock(T0)
    policy = ApprovalPolicy(remind_after_minutes=60, remind_max=2)
    aid = await _start(db, clock, f"{A} > {B}", policy=policy)
    registry = build_timers(Settings())

    async def run(timer_id: int) -> None:
        assert await run_timer(db, timer_id, registry, clock) == "done"

    pump = TimerPump(db, clock, run)
    assert await pump.pump_once() == 0
    clock.advance(timedelta(minutes=61))
    assert await pump.pump_once() == 1
    assert sum("等待您审批" in m for m in await _dms(db, A)) == 1
    assert not any("仍未处理" in m for m in await _dms(db, REQ))
    clock.advance(timedelta(minutes=61))
    assert await pump.pump_once() == 1
    assert sum("等待您审批" in m for m in await _dms(db, A)) == 2
    assert sum("仍未处理" in m for m in await _dms(db, REQ)) == 1
    clock.advance(timedelta(hours=5))
    assert await pump.pump_once() == 0  # stops after the last reminder
    # A decision moves the clock to the next step.
    await _decide(db, clock, aid, A)
    clock.advance(timedelta(minutes=61))
    assert await pump.pump_once() == 1
    assert sum("等待您审批" in m for m in await _dms(db, B)) == 1
    await _decide(db, clock, aid, B)
    async with db.reading() as session:
        pending = await session.scalar(
            select(func.count()).select_from(Timer).where(Timer.status == "pending", Timer.kind == service.REMIND)
        )
        assert pending == 0


async def test_lists(db: Database) -> None:
    clock = FrozenClock(T0)
    first = await _start(db, clock, f"{A} > {B}")
    second = await _start(db, clock, f"{B} > {A}")
    async with db.reading() as session:
        assert [x.id for x in await service.waiting_for(session, A)] == [first]
        assert [x.id for x in await service.waiting_for(session, B)] == [second]
        assert [x.id for x in await service.started_by(session, REQ)] == [first, second]


async def test_drafter_step_from_template(db: Database) -> None:
    clock = FrozenClock(T0)
    steps = [StepSpec((), name="拟稿", drafter=True), StepSpec((A,), name="核稿"), StepSpec((B, C), "all", "会签")]
    async with db.transaction() as session:
        approval = await service.start_approval(
            session, requester=REQ, title="发文", steps=steps, room_id=ROOM, clock=clock, template="发文"
        )
        aid = approval.id
    assert await _decide(db, clock, aid, A) == "step_done"
    async with db.reading() as session:
        loaded = await service.load_steps(session, aid)
        assert loaded[0].signers[0].user_id == REQ and loaded[0].signers[0].decision == "drafted"
        assert loaded[2].row.status == "active"
