"""What changes an approval (公文审批): start, decide, transfer (转交), add a signer (加签),
return (退回), resubmit, withdraw (撤回), nudge (催办).

Rules enforced here, not in chat: only a current approver decides; a decision is final; the
requester never approves their own request; a rejection needs a reason. Every mutating call
locks the approval row first (SELECT … FOR UPDATE on PostgreSQL; on SQLite every write
transaction starts with BEGIN IMMEDIATE, so writers are serialized) and re-reads the state
under the lock, so two reactions racing on one step give exactly one decision.

Every change is audited in the caller's transaction, and the room card ("card:A12") is edited
in place through the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from commands.approvals.chain import ALL, ANY, StepSpec, check_not_self
from commands.approvals.models import (
    APPROVE,
    APPROVED,
    DONE,
    DRAFTED,
    PENDING,
    REJECT,
    REJECTED,
    RETURNED,
    TRANSFER,
    WAITING,
    WITHDRAWN,
    Approval,
    ApprovalSigner,
    ApprovalStep,
    Step,
)
from commands.approvals.notices import close_notice, tell, tell_all
from commands.approvals.policy import ApprovalPolicy
from commands.approvals.render import label_in
from commands.approvals.service.engine import (
    activate,
    ask,
    close_own_notice,
    close_step_notices,
    finish,
    my_turn,
    next_waiting,
    prefetch,
    record_history,
    refresh_card,
    remind_key,
    require_pending,
    reset,
    touch,
)
from commands.approvals.service.queries import active_step, get_approval, load_steps, lock, notice_ref
from records import audit, timers
from records.clock import Clock
from records.errors import DomainError, NotAllowed

MAX_TITLE = 200
MAX_TEXT = 4000


@dataclass
class Outcome:
    """What a call changed, for the chat adapter's reply."""

    approval: Approval
    event: str  # recorded | step_done | approved | rejected | transferred | added | returned | …
    step_name: str = ""
    notified: list[str] = field(default_factory=list)


# -- starting ----------------------------------------------------------------------------
async def start_approval(
    session: AsyncSession,
    *,
    requester: str,
    title: str,
    steps: list[StepSpec],
    room_id: str,
    clock: Clock,
    template: str | None = None,
    cc: list[str] | tuple[str, ...] = (),
    body: str = "",
    lang: str | None = None,
    tz: str | None = None,
    policy: ApprovalPolicy | None = None,
) -> Approval:
    """Store an approval with its chain, audit it, activate the first step and DM its approvers.

    The caller posts the card (`render.card_content`) with ref `card_ref(approval.id)`.
    """
    policy = policy or ApprovalPolicy()
    title = " ".join(title.split())
    if not title:
        raise DomainError("approval.no_title")
    if len(title) > MAX_TITLE:
        raise DomainError("approval.title_too_long", size=len(title), limit=MAX_TITLE)
    deciding = [s for s in steps if not s.drafter]
    if not deciding or any(not s.members for s in deciding):
        raise DomainError("approval.chain_empty")
    check_not_self(steps, requester)
    now = clock.now()
    approval = Approval(
        title=title,
        requester=requester,
        room_id=room_id,
        status=PENDING,
        body=body[:MAX_TEXT],
        attachments=[],
        template=template,
        cc=[u for u in dict.fromkeys(cc) if u != requester],
        lang=lang or policy.default_lang,
        tz=tz or policy.default_tz,
        policy=policy.to_dict(),
        version=0,
        created_at=now,
    )
    session.add(approval)
    await session.flush()
    for position, spec in enumerate(steps):
        row = ApprovalStep(
            approval_id=approval.id,
            position=position,
            mode=spec.mode if spec.mode in (ALL, ANY) else ALL,
            name=spec.name[:64],
            drafter=spec.drafter,
            status=DONE if spec.drafter else WAITING,
            finished_at=now if spec.drafter else None,
        )
        session.add(row)
        await session.flush()
        members = [requester] if spec.drafter else list(spec.members)
        for user in members:
            session.add(
                ApprovalSigner(
                    approval_id=approval.id,
                    step_id=row.id,
                    user_id=user,
                    decision=DRAFTED if spec.drafter else None,
                    opinion="",
                    decided_at=now if spec.drafter else None,
                )
            )
    await session.flush()
    await record_history(session, approval, requester, "start", clock, opinion=title)
    await audit.record(
        session,
        actor=requester,
        action="approval.start",
        subject=approval.code,
        data={
            "title": title,
            "room": room_id,
            "template": template,
            "cc": approval.cc,
            "steps": [
                {"name": s.name, "mode": s.mode, "members": list(s.members), "drafter": s.drafter} for s in steps
            ],
        },
        clock=clock,
    )
    all_steps = await load_steps(session, approval.id)
    first = next(s for s in all_steps if not s.row.drafter)
    await activate(session, approval, first, clock)
    await touch(session, approval)
    return approval


# -- deciding ----------------------------------------------------------------------------
async def check_turn(session: AsyncSession, approval_id: int, actor: str) -> Approval:
    """Raise the reason `actor` may not decide now (without deciding); used before asking a reason."""
    approval = await get_approval(session, approval_id)
    my_turn(approval, await load_steps(session, approval_id), actor)
    return approval


class ConfirmationNeeded(NotAllowed):
    """Approving a binding step (签发 …) waits for a passkey or TOTP confirmation on the phone.

    Raised before anything changes; the chat adapter answers with the confirmation link, any
    other caller gets the plain refusal of its text key."""

    def __init__(self, approval: Approval, step: Step) -> None:
        super().__init__("approval.confirm_needed", code=approval.code, step=step.label)
        self.approval = approval
        self.step = step


async def decide(
    session: AsyncSession,
    approval_id: int,
    actor: str,
    approve: bool,
    opinion: str,
    clock: Clock,
    *,
    confirmed_with: str | None = None,
    at_position: int | None = None,
) -> Outcome:
    """Approve (同意) or reject (驳回) as a current approver; a rejection needs a reason.

    Approving a binding step needs `confirmed_with`: the credential that confirmed it (a
    passkey's id or "totp"), given only by the step-up page. `at_position` refuses the
    decision if the approval has moved on from the step that was confirmed."""
    opinion = opinion.strip()[:MAX_TEXT]
    # Locked first, then the chain read in a statement of its own: on PostgreSQL a statement
    # that waited for the lock still sees the other tables as they were when it began, so a
    # 或签 sibling's decision committed meanwhile would be missed by a join.
    approval = await lock(session, approval_id)
    steps = await load_steps(session, approval_id)
    step, mine = my_turn(approval, steps, actor)
    await prefetch(session, approval, steps)
    if at_position is not None and step.row.position != at_position:
        raise NotAllowed("approval.confirm_moved_on", code=approval.code)
    if not approve and not opinion:
        raise DomainError("approval.need_reason", code=approval.code)
    binding = approve and ApprovalPolicy.from_dict(approval.policy).binding(step.row.name)
    if binding and confirmed_with is None:
        raise ConfirmationNeeded(approval, step)
    now = clock.now()
    mine.decision = APPROVE if approve else REJECT
    mine.opinion = opinion
    mine.decided_at = now
    label = step.label
    await record_history(session, approval, actor, mine.decision, clock, step=label, opinion=opinion)
    await audit.record(
        session,
        actor=actor,
        action=f"approval.{mine.decision}",
        subject=approval.code,
        data={"step": label, "position": step.row.position, "opinion": opinion}
        | ({"confirmed_with": confirmed_with} if confirmed_with is not None else {}),
        clock=clock,
    )
    await close_own_notice(session, approval, step, actor, mine.decision, clock)
    policy = ApprovalPolicy.from_dict(approval.policy)
    key = "approval.told_approved_by" if approve else "approval.told_rejected_by"
    await tell(
        session,
        approval.requester,
        key,
        clock,
        policy,
        code=approval.code,
        title=approval.title,
        user=actor,
        step=label_in(label),
        opinion=opinion or "—",
        topic=approval.code,
    )
    # Counted here, before the step and the approval change, so that one UPDATE writes all three.
    approval.version = (approval.version or 0) + 1
    if not approve:
        step.row.status = DONE
        step.row.finished_at = now
        await close_step_notices(session, approval, step, actor, mine.decision, clock)
        # The requester already has the one DM that says who rejected it, where and why
        # (told_rejected_by above): a second "your approval was rejected" would repeat it.
        await finish(session, approval, REJECTED, clock, reason=opinion, tell_requester=False, steps=steps)
        await refresh_card(session, approval, steps)
        return Outcome(approval, "rejected", label)
    if step.row.mode == ANY or all(s.decision == APPROVE for s in step.deciders):
        step.row.status = DONE
        step.row.finished_at = now
        await close_step_notices(session, approval, step, actor, mine.decision, clock)
        following = next_waiting(steps, step)
        if following is None:
            await finish(session, approval, APPROVED, clock, steps=steps)
            await refresh_card(session, approval, steps)
            return Outcome(approval, "approved", label)
        await activate(session, approval, following, clock)
        await refresh_card(session, approval, steps)
        return Outcome(approval, "step_done", label, notified=[s.user_id for s in following.undecided])
    await refresh_card(session, approval, steps)
    return Outcome(approval, "recorded", label)


async def transfer(session: AsyncSession, approval_id: int, actor: str, to: str, clock: Clock) -> Outcome:
    """Hand one's own turn to someone else (转交); they decide in one's place."""
    approval = await lock(session, approval_id)
    steps = await load_steps(session, approval_id)
    step, mine = my_turn(approval, steps, actor)
    _check_newcomer(approval, step, to)
    now = clock.now()
    mine.decision = TRANSFER
    mine.transferred_to = to
    mine.decided_at = now
    session.add(
        ApprovalSigner(
            approval_id=approval.id, step_id=step.row.id, user_id=to, opinion="", added_by=actor, added_how="transfer"
        )
    )
    await session.flush()
    label = step.label
    await record_history(session, approval, actor, "transfer", clock, step=label, target=to)
    await audit.record(
        session,
        actor=actor,
        action="approval.transfer",
        subject=approval.code,
        data={"step": label, "to": to},
        clock=clock,
    )
    await ask(session, approval, step, [to], clock, by=actor)
    await touch(session, approval)
    return Outcome(approval, "transferred", label, notified=[to])


def _check_newcomer(approval: Approval, step: Step, who: str) -> None:
    if who == approval.requester:
        raise NotAllowed("approval.self_approval")
    if any(s.user_id == who and s.decision != TRANSFER for s in step.signers):
        raise DomainError("approval.already_in_step", user=who, code=approval.code)


async def add_signer(
    session: AsyncSession, approval_id: int, actor: str, who: str, where: str, clock: Clock
) -> Outcome:
    """Add someone to the chain (加签): a new step just before or just after the current one.

    "before": the newcomer decides first and the current step waits (its decisions so far
    stand). "after": the newcomer decides once the current step is done. A current approver
    or the requester may add signers.
    """
    if where not in ("before", "after"):
        raise DomainError("approval.addsign_where")
    approval = await lock(session, approval_id)
    steps = await load_steps(session, approval_id)
    require_pending(approval)
    current = active_step(steps)
    assert current is not None
    if actor != approval.requester:
        my_turn(approval, steps, actor)
    if who == approval.requester:
        raise NotAllowed("approval.self_approval")
    if where == "before":
        _check_newcomer(approval, current, who)
    at = current.row.position if where == "before" else current.row.position + 1
    await session.execute(
        update(ApprovalStep)
        .where(ApprovalStep.approval_id == approval.id, ApprovalStep.position >= at)
        .values(position=ApprovalStep.position + 1)
    )
    row = ApprovalStep(approval_id=approval.id, position=at, mode=ALL, name="加签", drafter=False, status=WAITING)
    session.add(row)
    await session.flush()
    signer = ApprovalSigner(
        approval_id=approval.id, step_id=row.id, user_id=who, opinion="", added_by=actor, added_how=where
    )
    session.add(signer)
    await session.flush()
    await record_history(session, approval, actor, f"addsign_{where}", clock, step=current.label, target=who)
    await audit.record(
        session,
        actor=actor,
        action="approval.addsign",
        subject=approval.code,
        data={"who": who, "where": where, "step": current.label},
        clock=clock,
    )
    fresh = await load_steps(session, approval.id)
    new_step = next(s for s in fresh if s.row.id == row.id)
    if where == "before":
        current.row.status = WAITING
        await activate(session, approval, new_step, clock)
        await touch(session, approval)
        return Outcome(approval, "added_before", current.label, notified=[who])
    await touch(session, approval)
    return Outcome(approval, "added_after", current.label)


async def return_step(session: AsyncSession, approval_id: int, actor: str, reason: str, clock: Clock) -> Outcome:
    """Send the approval back (退回) to the previous step, or to the drafter from the first step."""
    reason = reason.strip()[:MAX_TEXT]
    approval = await lock(session, approval_id)
    steps = await load_steps(session, approval_id)
    step, _mine = my_turn(approval, steps, actor)
    if not reason:
        raise DomainError("approval.need_reason", code=approval.code)
    label = step.label
    previous = next(
        (s for s in reversed(steps) if s.row.position < step.row.position and not s.row.drafter),
        None,
    )
    policy = ApprovalPolicy.from_dict(approval.policy)
    for user in [s.user_id for s in step.undecided if s.user_id != actor]:
        await close_notice(
            session,
            user,
            notice_ref(approval.id, user),
            "approval.notice_returned",
            clock,
            policy,
            code=approval.code,
            title=approval.title,
            user=actor,
        )
    # The current step starts again from scratch once the document comes back to it.
    reset(step)
    step.row.status = WAITING
    await record_history(session, approval, actor, "return", clock, step=label, opinion=reason)
    await audit.record(
        session,
        actor=actor,
        action="approval.return",
        subject=approval.code,
        data={"step": label, "to": previous.label if previous else "drafter", "reason": reason},
        clock=clock,
    )
    if previous is None:
        approval.status = RETURNED
        await timers.cancel(session, remind_key(approval.id))
        await tell(
            session,
            approval.requester,
            "approval.told_returned_drafter",
            clock,
            policy,
            code=approval.code,
            title=approval.title,
            user=actor,
            reason=reason,
            topic=approval.code,
        )
        await touch(session, approval)
        return Outcome(approval, "returned_drafter", label)
    reset(previous)
    await tell(
        session,
        approval.requester,
        "approval.told_returned",
        clock,
        policy,
        code=approval.code,
        title=approval.title,
        user=actor,
        step=label_in(previous.label),
        reason=reason,
        topic=approval.code,
    )
    await activate(session, approval, previous, clock, returned_by=actor, reason=reason)
    await touch(session, approval)
    return Outcome(approval, "returned", previous.label, notified=[s.user_id for s in previous.undecided])


async def resubmit(session: AsyncSession, approval_id: int, actor: str, clock: Clock, note: str = "") -> Outcome:
    """The requester sends a returned approval on again, from its first step."""
    approval = await lock(session, approval_id)
    if actor != approval.requester:
        raise NotAllowed("approval.requester_only", code=approval.code)
    if approval.status != RETURNED:
        raise DomainError("approval.not_returned", code=approval.code)
    steps = await load_steps(session, approval_id)
    for step in steps:
        if not step.row.drafter:
            reset(step)
            step.row.status = WAITING
    approval.status = PENDING
    await record_history(session, approval, actor, "resubmit", clock, opinion=note.strip())
    await audit.record(session, actor=actor, action="approval.resubmit", subject=approval.code, data={}, clock=clock)
    first = next(s for s in steps if not s.row.drafter)
    await activate(session, approval, first, clock)
    await touch(session, approval)
    return Outcome(approval, "resubmitted", first.label, notified=[s.user_id for s in first.undecided])


async def withdraw(session: AsyncSession, approval_id: int, actor: str, clock: Clock, reason: str = "") -> Outcome:
    """The requester takes the approval back (撤回) while it has no final outcome."""
    approval = await lock(session, approval_id)
    if actor != approval.requester:
        raise NotAllowed("approval.requester_only", code=approval.code)
    if approval.status not in (PENDING, RETURNED):
        raise NotAllowed("approval.closed", code=approval.code, status=approval.status)
    steps = await load_steps(session, approval_id)
    current = active_step(steps)
    waiting = [s.user_id for s in current.undecided] if current else []
    await record_history(session, approval, actor, "withdraw", clock, opinion=reason.strip())
    await finish(session, approval, WITHDRAWN, clock, reason=reason.strip(), tell_requester=False)
    await touch(session, approval)
    policy = ApprovalPolicy.from_dict(approval.policy)
    await tell_all(
        session,
        waiting,
        "approval.told_withdrawn",
        clock,
        policy,
        code=approval.code,
        title=approval.title,
        topic=approval.code,
    )
    return Outcome(approval, "withdrawn", notified=waiting)


async def nudge(session: AsyncSession, approval_id: int, actor: str, clock: Clock) -> Outcome:
    """Remind the current approvers (催办), at most once per the policy's interval."""
    approval = await lock(session, approval_id)
    if actor != approval.requester:
        raise NotAllowed("approval.requester_only", code=approval.code)
    require_pending(approval)
    policy = ApprovalPolicy.from_dict(approval.policy)
    now = clock.now()
    if approval.last_nudge_at is not None and now - approval.last_nudge_at < policy.nudge_interval:
        wait = policy.nudge_interval - (now - approval.last_nudge_at)
        minutes = max(1, -(-int(wait.total_seconds()) // 60))  # rounded up
        raise DomainError("approval.nudge_too_soon", code=approval.code, minutes=minutes)
    steps = await load_steps(session, approval_id)
    current = active_step(steps)
    waiting = [s.user_id for s in current.undecided] if current else []
    approval.last_nudge_at = now
    label = current.label if current else ""
    await record_history(session, approval, actor, "nudge", clock, step=label)
    await audit.record(
        session, actor=actor, action="approval.nudge", subject=approval.code, data={"to": waiting}, clock=clock
    )
    await tell_all(
        session,
        waiting,
        "approval.nudged",
        clock,
        policy,
        ref_of=lambda u: notice_ref(approval.id, u),
        code=approval.code,
        title=approval.title,
        user=actor,
        step=label_in(label),
        topic=approval.code,
    )
    return Outcome(approval, "nudged", label, notified=waiting)
