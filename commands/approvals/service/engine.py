"""The step engine: whose turn it is, making a step the current one, finishing an approval,
the DMs that ask for and close decisions, the card's edits, and the reminder of a waiting step.

The state changes (service.changes, service.document) drive it; it knows nothing of chat.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from commands.approvals import render
from commands.approvals.models import (
    ACTIVE,
    APPROVE,
    DONE,
    PENDING,
    REJECT,
    WAITING,
    WITHDRAWN,
    Approval,
    ApprovalHistory,
    ApprovalSigner,
    Step,
)
from commands.approvals.notices import close_notice, tell, tell_all
from commands.approvals.policy import ApprovalPolicy
from commands.approvals.render import label_in
from commands.approvals.service.queries import active_step, card_ref, load_steps, lock, notice_ref
from commands.approvals.texts import render as render_text
from notifications.names import Names, names_for
from records import audit, outbox, people, timers
from records.clock import Clock
from records.errors import NotAllowed
from records.models import Timer
from records.timers import Fired

REMIND = "approval.remind"
SYSTEM = "zhiban"


def remind_key(approval_id: int) -> str:
    return f"approval:A{approval_id}:remind"


# -- whose turn ----------------------------------------------------------------------------
def require_pending(approval: Approval) -> None:
    if approval.status != PENDING:
        raise NotAllowed("approval.closed", code=approval.code, status=approval.status)


def my_turn(approval: Approval, steps: list[Step], actor: str) -> tuple[Step, ApprovalSigner]:
    """The actor's undecided place in the current step, or the precise reason there is none."""
    require_pending(approval)
    step = active_step(steps)
    if step is None:  # pragma: no cover - a pending approval always has an active step
        raise NotAllowed("approval.closed", code=approval.code, status=approval.status)
    mine = next((s for s in step.signers if s.user_id == actor and s.decision is None), None)
    if mine is not None:
        return step, mine
    if actor == approval.requester:
        raise NotAllowed("approval.self_approval_act", code=approval.code)
    if any(s.user_id == actor and s.decision in (APPROVE, REJECT) for s in step.signers):
        raise NotAllowed("approval.already_decided", code=approval.code)
    for other in steps:
        mine_there = [s for s in other.signers if s.user_id == actor]
        if other.row.status == DONE and any(s.decision is None for s in mine_there):
            # A 或签 sibling decided first (possibly a split second earlier).
            raise _step_refusal("approval.step_already_done", other, code=approval.code)
        if other.row.status == DONE and any(s.decision in (APPROVE, REJECT) for s in mine_there):
            raise NotAllowed("approval.already_decided", code=approval.code)
        if other.row.status == WAITING and any(s.decision is None for s in mine_there):
            raise _step_refusal("approval.not_your_turn", other, code=approval.code)
    raise NotAllowed("approval.not_approver", code=approval.code)


def _step_refusal(key: str, step: Step, *, code: str) -> NotAllowed:
    """A refusal naming a step in words, "第 1 步「处长审核」" / "step 1 ('review')", never as
    its internal label "#1"; a named step has its own text (`<key>_named`)."""
    if step.row.name:
        return NotAllowed(f"{key}_named", n=step.row.position + 1, name=step.row.name, code=code)
    return NotAllowed(key, n=step.row.position + 1, code=code)


def next_waiting(steps: list[Step], current: Step) -> Step | None:
    return next((s for s in steps if s.row.position > current.row.position and s.row.status == WAITING), None)


def reset(step: Step) -> None:
    """Clear the step's decisions (they stay in the history); handed-on turns stay handed on."""
    for signer in step.signers:
        if signer.decision in (APPROVE, REJECT):
            signer.decision = None
            signer.opinion = ""
            signer.decided_at = None
    step.row.finished_at = None


# -- moving the chain ----------------------------------------------------------------------
async def record_history(
    session: AsyncSession,
    approval: Approval,
    actor: str,
    action: str,
    clock: Clock,
    *,
    step: str = "",
    target: str | None = None,
    opinion: str = "",
) -> None:
    session.add(
        ApprovalHistory(
            approval_id=approval.id,
            at=clock.now(),
            actor=actor,
            action=action,
            step_name=step[:64],
            target=target,
            opinion=opinion,
        )
    )
    await session.flush()


async def activate(
    session: AsyncSession,
    approval: Approval,
    step: Step,
    clock: Clock,
    *,
    returned_by: str | None = None,
    reason: str = "",
) -> None:
    """Make `step` the current one: DM its approvers, start its reminder clock, refresh the card."""
    step.row.status = ACTIVE
    step.row.started_at = clock.now()
    step.row.finished_at = None
    await ask(
        session, approval, step, [s.user_id for s in step.undecided], clock, returned_by=returned_by, reason=reason
    )
    policy = ApprovalPolicy.from_dict(approval.policy)
    if policy.remind_after_minutes > 0 and policy.remind_max > 0:
        await timers.schedule(
            session,
            REMIND,
            clock.now() + policy.remind_after,
            {"approval_id": approval.id, "step_id": step.row.id, "count": 0},
            key=remind_key(approval.id),
            clock=clock,
        )


async def ask(
    session: AsyncSession,
    approval: Approval,
    step: Step,
    users: list[str],
    clock: Clock,
    *,
    by: str | None = None,
    returned_by: str | None = None,
    reason: str = "",
) -> None:
    """DM approvers that the approval waits for them (✅/❌ on the DM decide, as on the card)."""
    policy = ApprovalPolicy.from_dict(approval.policy)
    extra: dict[str, str] = {}
    if returned_by:
        key = "approval.ask_returned"
        extra = {"user": returned_by, "reason": reason}
    elif by:
        key = "approval.ask_transferred"
        extra = {"user": by}
    else:
        key = "approval.ask"
    await tell_all(
        session,
        users,
        key,
        clock,
        policy,
        ref_of=lambda u: notice_ref(approval.id, u),
        code=approval.code,
        title=approval.title,
        requester=approval.requester,
        step=label_in(step.label),
        mode=render.mode_namer(step.row.mode, len(step.deciders)),
        topic=approval.code,
        **extra,
    )


async def finish(
    session: AsyncSession,
    approval: Approval,
    status: str,
    clock: Clock,
    *,
    reason: str = "",
    tell_requester: bool = True,
    steps: list[Step] | None = None,
) -> None:
    """End the approval with `status`: its reminder stops, the end is audited, the requester and
    the CC list are told, and every DM still asking for a decision says it is over. `steps`: the
    chain as the caller holds it (read again when not given)."""
    approval.status = status
    approval.decided_at = clock.now()
    await timers.cancel(session, remind_key(approval.id))
    await audit.record(
        session,
        actor=SYSTEM if status != WITHDRAWN else approval.requester,
        action=f"approval.{status}",
        subject=approval.code,
        data={"reason": reason} if reason else {},
        clock=clock,
    )
    policy = ApprovalPolicy.from_dict(approval.policy)
    code, title, why = approval.code, approval.title, reason or "—"
    if tell_requester:
        key = f"approval.final_{status}"
        await tell(session, approval.requester, key, clock, policy, topic=code, code=code, title=title, reason=why)
    # 抄送: the CC list learns the outcome once there is one.
    await tell_all(
        session,
        approval.cc,
        f"approval.cc_{status}",
        clock,
        policy,
        topic=code,
        code=code,
        title=title,
        reason=why,
        requester=approval.requester,
    )
    await close_open_notices(session, approval, status, clock, policy, steps)


async def close_step_notices(
    session: AsyncSession, approval: Approval, step: Step, actor: str, decision: str, clock: Clock
) -> None:
    """The step closed on `actor`'s decision: the other approvers' DMs say so (或签 siblings, a reject)."""
    policy = ApprovalPolicy.from_dict(approval.policy)
    label = step.label
    for signer in step.undecided:
        if signer.user_id == actor:
            continue
        await close_notice(
            session,
            signer.user_id,
            notice_ref(approval.id, signer.user_id),
            "approval.notice_closed_by",
            clock,
            policy,
            code=approval.code,
            title=approval.title,
            step=label_in(label),
            user=actor,
            decision=lambda lang: render_text(f"approval.act_{decision}", lang),
        )


async def close_own_notice(
    session: AsyncSession, approval: Approval, step: Step, actor: str, decision: str, clock: Clock
) -> None:
    """The approver decided (on the card, in the DM or by command): every copy of the request
    they were sent says so, instead of still asking them to react."""
    await close_notice(
        session,
        actor,
        notice_ref(approval.id, actor),
        "approval.notice_decided",
        clock,
        ApprovalPolicy.from_dict(approval.policy),
        code=approval.code,
        title=approval.title,
        step=label_in(step.label),
        decision=lambda lang: render_text(f"approval.act_{decision}", lang),
    )


async def close_open_notices(
    session: AsyncSession,
    approval: Approval,
    status: str,
    clock: Clock,
    policy: ApprovalPolicy,
    steps: list[Step] | None = None,
) -> None:
    """The approval ended: every DM still asking for a decision says it is over.

    Steps already closed had their notices edited when they closed (_close_step_notices);
    here the active step (a withdrawal) and waiting steps whose people were asked before a
    return. Someone never asked has no notice, and close_notice skips them.
    """
    key = "approval.notice_withdrawn" if status == WITHDRAWN else "approval.notice_ended"
    for step in steps if steps is not None else await load_steps(session, approval.id):
        if step.row.status == DONE:
            continue
        for signer in step.undecided:
            await close_notice(
                session,
                signer.user_id,
                notice_ref(approval.id, signer.user_id),
                key,
                clock,
                policy,
                code=approval.code,
                title=approval.title,
                status=lambda lang: render.status_name(status, lang),
            )


async def touch(session: AsyncSession, approval: Approval, steps: list[Step] | None = None) -> None:
    """Count the change and edit the room card in place (if it was posted)."""
    approval.version = (approval.version or 0) + 1
    await session.flush()
    await refresh_card(session, approval, steps)


async def refresh_card(session: AsyncSession, approval: Approval, steps: list[Step] | None = None) -> None:
    """Edit the room card (and its reposts) to show the approval as it is now; `steps` as the
    caller holds them, else read again."""
    steps = steps if steps is not None else await load_steps(session, approval.id)
    content = await card_message(session, approval, steps, now=approval.decided_at or approval.created_at)
    await outbox.enqueue_edits(session, card_ref(approval.id), content)


async def card_names(session: AsyncSession, approval: Approval, steps: Sequence[Step], *, now: datetime) -> Names:
    """The names the office knows for the people the room card shows."""
    return await names_for(session, *render.card_lines(approval, steps, now))


async def card_message(
    session: AsyncSession, approval: Approval, steps: Sequence[Step], *, now: datetime
) -> dict[str, object]:
    """The room card as Matrix content, its people shown by the names the office knows."""
    names = await card_names(session, approval, steps, now=now)
    return render.card_content(approval, steps, now=now, names=names)


async def prefetch(session: AsyncSession, approval: Approval, steps: Sequence[Step]) -> None:
    """Read up front, in one query each, what a change is about to look up person by person
    and message by message: everyone the approval names (languages, zones, display names) and
    the messages its card and DMs were sent as (which the change edits)."""
    everyone = [approval.requester, *approval.cc, *(s.user_id for step in steps for s in step.signers)]
    await people.load(session, everyone)
    refs = [card_ref(approval.id), *(notice_ref(approval.id, user) for user in dict.fromkeys(everyone))]
    await outbox.prefetch_refs(session, refs)


# -- the reminder timer --------------------------------------------------------------------
async def fire_reminder(session: AsyncSession, timer: Timer, clock: Clock) -> Fired | None:
    """A step has waited too long: remind its undecided approvers; after the last, tell the requester."""
    payload = dict(timer.payload or {})
    approval = await session.get(Approval, int(payload.get("approval_id", 0)))
    if approval is None or approval.status != PENDING:
        return None
    approval = await lock(session, approval.id)
    steps = await load_steps(session, approval.id)
    current = active_step(steps)
    if current is None or current.row.id != payload.get("step_id"):
        return None
    policy = ApprovalPolicy.from_dict(approval.policy)
    count = int(payload.get("count", 0)) + 1
    waiting = [s.user_id for s in current.undecided]
    label = current.label
    since = current.row.started_at or approval.created_at
    await tell_all(
        session,
        waiting,
        "approval.reminder",
        clock,
        policy,
        ref_of=lambda u: notice_ref(approval.id, u),
        code=approval.code,
        title=approval.title,
        step=label_in(label),
        since=since,
        topic=approval.code,
    )
    await audit.record(
        session,
        actor=SYSTEM,
        action="approval.remind",
        subject=approval.code,
        data={"step": label, "to": waiting, "count": count},
        clock=clock,
    )
    if count >= policy.remind_max:
        await tell(
            session,
            approval.requester,
            "approval.stuck",
            clock,
            policy,
            code=approval.code,
            title=approval.title,
            step=label_in(label),
            since=since,
            people=", ".join(waiting),
            topic=approval.code,
        )
        return None
    timer.payload = {**payload, "count": count}
    return Fired(again_at=clock.now() + policy.remind_after)
