"""Approvals (公文审批): start, decide, transfer (转交), add a signer (加签), return (退回),
withdraw (撤回), nudge (催办), resubmit, and the timer that reminds a waiting step.

Rules enforced here, not in chat: only a current approver decides; a decision is final; the
requester never approves their own request; a rejection needs a reason. Every mutating call
locks the approval row first (SELECT … FOR UPDATE on PostgreSQL; on SQLite every write
transaction starts with BEGIN IMMEDIATE, so writers are serialized) and re-reads the state
under the lock, so two reactions racing on one step give exactly one decision.

Every change is audited in the caller's transaction, and the room card ("card:A12") is edited
in place through the outbox.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from commands.approvals import render
from commands.approvals.chain import ALL, ANY, StepSpec, check_not_self
from commands.approvals.models import (
    ACTIVE,
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
    ApprovalHistory,
    ApprovalSigner,
    ApprovalStep,
)
from commands.approvals.notices import close_notice, tell, tell_all
from commands.approvals.policy import ApprovalPolicy
from commands.approvals.texts import render as render_text
from records import audit, outbox, timers
from records.clock import Clock
from records.errors import DomainError, NotAllowed, NotFound
from records.models import Timer
from records.timers import Fired

REMIND = "approval.remind"
SYSTEM = "zhiban"
MAX_TITLE = 200
MAX_TEXT = 4000
_CODE = re.compile(r"^[Aa]?(\d{1,12})$")


# -- names -------------------------------------------------------------------------------
def parse_code(code: str) -> int:
    m = _CODE.match(code.strip())
    if not m:
        raise NotFound("approval.not_found", code=code.strip()[:20])
    return int(m.group(1))


def card_ref(approval_id: int) -> str:
    return f"card:A{approval_id}"


def notice_ref(approval_id: int, user: str) -> str:
    """A DM asking `user` to decide: ✅/❌ on it decide like on the card."""
    return f"approval:A{approval_id}:notice:{user}"[:128]


def parse_ref(ref: str | None) -> int | None:
    """The approval a card or a DM notice belongs to."""
    if not ref:
        return None
    m = re.fullmatch(r"card:A(\d+)|approval:A(\d+):notice:.*", ref)
    if m is None:
        return None
    return int(m.group(1) or m.group(2))


def _remind_key(approval_id: int) -> str:
    return f"approval:A{approval_id}:remind"


# -- reading -----------------------------------------------------------------------------
@dataclass
class Step:
    """A step with its signers, as read for a decision or a card."""

    row: ApprovalStep
    signers: list[ApprovalSigner] = field(default_factory=list)

    @property
    def undecided(self) -> list[ApprovalSigner]:
        return [s for s in self.signers if s.decision is None]

    @property
    def deciders(self) -> list[ApprovalSigner]:
        """Signers who count: those who handed their turn on (转交) no longer do."""
        return [s for s in self.signers if s.decision != TRANSFER]


@dataclass
class Outcome:
    """What a call changed, for the chat adapter's reply."""

    approval: Approval
    event: str  # recorded | step_done | approved | rejected | transferred | added | returned | …
    step_name: str = ""
    notified: list[str] = field(default_factory=list)


async def get_approval(session: AsyncSession, approval_id: int) -> Approval:
    approval = await session.get(Approval, approval_id)
    if approval is None:
        raise NotFound("approval.not_found", code=f"A{approval_id}")
    return approval


async def _lock(session: AsyncSession, approval_id: int) -> Approval:
    """The approval row, locked for this transaction and read fresh (never from the identity map)."""
    query = select(Approval).where(Approval.id == approval_id).execution_options(populate_existing=True)
    bind = session.bind
    if bind is not None and bind.dialect.name != "sqlite":
        query = query.with_for_update()
    approval = await session.scalar(query)
    if approval is None:
        raise NotFound("approval.not_found", code=f"A{approval_id}")
    return approval


async def load_steps(session: AsyncSession, approval_id: int) -> list[Step]:
    step_rows = await session.scalars(
        select(ApprovalStep)
        .where(ApprovalStep.approval_id == approval_id)
        .order_by(ApprovalStep.position)
        .execution_options(populate_existing=True)
    )
    steps = [Step(row) for row in step_rows]
    by_id = {s.row.id: s for s in steps}
    signers = await session.scalars(
        select(ApprovalSigner)
        .where(ApprovalSigner.approval_id == approval_id)
        .order_by(ApprovalSigner.id)
        .execution_options(populate_existing=True)
    )
    for signer in signers:
        if signer.step_id in by_id:
            by_id[signer.step_id].signers.append(signer)
    return steps


def active_step(steps: list[Step]) -> Step | None:
    return next((s for s in steps if s.row.status == ACTIVE), None)


async def history(session: AsyncSession, approval_id: int) -> list[ApprovalHistory]:
    rows = await session.scalars(
        select(ApprovalHistory).where(ApprovalHistory.approval_id == approval_id).order_by(ApprovalHistory.id)
    )
    return list(rows)


async def waiting_for(session: AsyncSession, user: str) -> list[Approval]:
    """Pending approvals whose current step waits for `user`."""
    rows = await session.scalars(
        select(Approval)
        .join(ApprovalSigner, ApprovalSigner.approval_id == Approval.id)
        .join(ApprovalStep, ApprovalStep.id == ApprovalSigner.step_id)
        .where(
            Approval.status == PENDING,
            ApprovalStep.status == ACTIVE,
            ApprovalSigner.user_id == user,
            ApprovalSigner.decision.is_(None),
        )
        .order_by(Approval.id)
    )
    return list(dict.fromkeys(rows))


async def started_by(session: AsyncSession, user: str, *, recent_final: int = 5) -> list[Approval]:
    """The user's open approvals, then the most recent finished ones."""
    open_rows = await session.scalars(
        select(Approval)
        .where(Approval.requester == user, Approval.status.in_((PENDING, RETURNED)))
        .order_by(Approval.id)
    )
    done_rows = await session.scalars(
        select(Approval)
        .where(Approval.requester == user, Approval.status.in_((APPROVED, REJECTED, WITHDRAWN)))
        .order_by(Approval.id.desc())
        .limit(recent_final)
    )
    return [*open_rows, *done_rows]


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
    await _history(session, approval, requester, "start", clock, opinion=title)
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
    await _activate(session, approval, first, clock)
    await _touch(session, approval)
    return approval


# -- deciding ----------------------------------------------------------------------------
def _require_pending(approval: Approval) -> None:
    if approval.status != PENDING:
        raise NotAllowed("approval.closed", code=approval.code, status=approval.status)


def _my_turn(approval: Approval, steps: list[Step], actor: str) -> tuple[Step, ApprovalSigner]:
    """The actor's undecided place in the current step, or the precise reason there is none."""
    _require_pending(approval)
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


def _step_refusal(key: str, step: Step, **params: Any) -> NotAllowed:
    """A refusal naming a step in words, "第 1 步「处长审核」" / "step 1 ('review')", never as
    its internal label "#1"; a named step has its own text (`<key>_named`)."""
    if step.row.name:
        return NotAllowed(f"{key}_named", n=step.row.position + 1, name=step.row.name, **params)
    return NotAllowed(key, n=step.row.position + 1, **params)


def label_in(label: str) -> Any:
    """A step label for a text in the reader's language: unnamed steps read "第2步" / "Step 2"."""

    def localised(lang: str) -> str:
        if label.startswith("#") and label[1:].isdigit():
            return render_text("approval.step_n", lang, n=int(label[1:]))
        return label

    return localised


async def check_turn(session: AsyncSession, approval_id: int, actor: str) -> Approval:
    """Raise the reason `actor` may not decide now (without deciding); used before asking a reason."""
    approval = await get_approval(session, approval_id)
    _my_turn(approval, await load_steps(session, approval_id), actor)
    return approval


def _step_label(step: Step) -> str:
    return step.row.name or f"#{step.row.position + 1}"


async def decide(
    session: AsyncSession, approval_id: int, actor: str, approve: bool, opinion: str, clock: Clock
) -> Outcome:
    """Approve (同意) or reject (驳回) as a current approver; a rejection needs a reason."""
    opinion = opinion.strip()[:MAX_TEXT]
    approval = await _lock(session, approval_id)
    steps = await load_steps(session, approval_id)
    step, mine = _my_turn(approval, steps, actor)
    if not approve and not opinion:
        raise DomainError("approval.need_reason", code=approval.code)
    now = clock.now()
    mine.decision = APPROVE if approve else REJECT
    mine.opinion = opinion
    mine.decided_at = now
    label = _step_label(step)
    await _history(session, approval, actor, mine.decision, clock, step=label, opinion=opinion)
    await audit.record(
        session,
        actor=actor,
        action=f"approval.{mine.decision}",
        subject=approval.code,
        data={"step": label, "position": step.row.position, "opinion": opinion},
        clock=clock,
    )
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
    if not approve:
        step.row.status = DONE
        step.row.finished_at = now
        await _close_step_notices(session, approval, step, actor, mine.decision, clock)
        # The requester already has the one DM that says who rejected it, where and why
        # (told_rejected_by above): a second "your approval was rejected" would repeat it.
        await _finish(session, approval, REJECTED, clock, reason=opinion, tell_requester=False)
        await _touch(session, approval)
        return Outcome(approval, "rejected", label)
    if step.row.mode == ANY or all(s.decision == APPROVE for s in step.deciders):
        step.row.status = DONE
        step.row.finished_at = now
        await _close_step_notices(session, approval, step, actor, mine.decision, clock)
        following = _next_waiting(steps, step)
        if following is None:
            await _finish(session, approval, APPROVED, clock)
            await _touch(session, approval)
            return Outcome(approval, "approved", label)
        await _activate(session, approval, following, clock)
        await _touch(session, approval)
        return Outcome(approval, "step_done", label, notified=[s.user_id for s in following.undecided])
    await _touch(session, approval)
    return Outcome(approval, "recorded", label)


def _next_waiting(steps: list[Step], current: Step) -> Step | None:
    return next((s for s in steps if s.row.position > current.row.position and s.row.status == WAITING), None)


async def transfer(session: AsyncSession, approval_id: int, actor: str, to: str, clock: Clock) -> Outcome:
    """Hand one's own turn to someone else (转交); they decide in one's place."""
    approval = await _lock(session, approval_id)
    steps = await load_steps(session, approval_id)
    step, mine = _my_turn(approval, steps, actor)
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
    label = _step_label(step)
    await _history(session, approval, actor, "transfer", clock, step=label, target=to)
    await audit.record(
        session,
        actor=actor,
        action="approval.transfer",
        subject=approval.code,
        data={"step": label, "to": to},
        clock=clock,
    )
    await _ask(session, approval, step, [to], clock, by=actor)
    await _touch(session, approval)
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
    approval = await _lock(session, approval_id)
    steps = await load_steps(session, approval_id)
    _require_pending(approval)
    current = active_step(steps)
    assert current is not None
    if actor != approval.requester:
        _my_turn(approval, steps, actor)
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
    await _history(session, approval, actor, f"addsign_{where}", clock, step=_step_label(current), target=who)
    await audit.record(
        session,
        actor=actor,
        action="approval.addsign",
        subject=approval.code,
        data={"who": who, "where": where, "step": _step_label(current)},
        clock=clock,
    )
    fresh = await load_steps(session, approval.id)
    new_step = next(s for s in fresh if s.row.id == row.id)
    if where == "before":
        current.row.status = WAITING
        await _activate(session, approval, new_step, clock)
        await _touch(session, approval)
        return Outcome(approval, "added_before", _step_label(current), notified=[who])
    await _touch(session, approval)
    return Outcome(approval, "added_after", _step_label(current))


async def return_step(session: AsyncSession, approval_id: int, actor: str, reason: str, clock: Clock) -> Outcome:
    """Send the approval back (退回) to the previous step, or to the drafter from the first step."""
    reason = reason.strip()[:MAX_TEXT]
    approval = await _lock(session, approval_id)
    steps = await load_steps(session, approval_id)
    step, _mine = _my_turn(approval, steps, actor)
    if not reason:
        raise DomainError("approval.need_reason", code=approval.code)
    label = _step_label(step)
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
    _reset(step)
    step.row.status = WAITING
    await _history(session, approval, actor, "return", clock, step=label, opinion=reason)
    await audit.record(
        session,
        actor=actor,
        action="approval.return",
        subject=approval.code,
        data={"step": label, "to": _step_label(previous) if previous else "drafter", "reason": reason},
        clock=clock,
    )
    if previous is None:
        approval.status = RETURNED
        await timers.cancel(session, _remind_key(approval.id))
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
        await _touch(session, approval)
        return Outcome(approval, "returned_drafter", label)
    _reset(previous)
    await tell(
        session,
        approval.requester,
        "approval.told_returned",
        clock,
        policy,
        code=approval.code,
        title=approval.title,
        user=actor,
        step=label_in(_step_label(previous)),
        reason=reason,
        topic=approval.code,
    )
    await _activate(session, approval, previous, clock, returned_by=actor, reason=reason)
    await _touch(session, approval)
    return Outcome(approval, "returned", _step_label(previous), notified=[s.user_id for s in previous.undecided])


def _reset(step: Step) -> None:
    """Clear the step's decisions (they stay in the history); handed-on turns stay handed on."""
    for signer in step.signers:
        if signer.decision in (APPROVE, REJECT):
            signer.decision = None
            signer.opinion = ""
            signer.decided_at = None
    step.row.finished_at = None


async def resubmit(session: AsyncSession, approval_id: int, actor: str, clock: Clock, note: str = "") -> Outcome:
    """The requester sends a returned approval on again, from its first step."""
    approval = await _lock(session, approval_id)
    if actor != approval.requester:
        raise NotAllowed("approval.requester_only", code=approval.code)
    if approval.status != RETURNED:
        raise DomainError("approval.not_returned", code=approval.code)
    steps = await load_steps(session, approval_id)
    for step in steps:
        if not step.row.drafter:
            _reset(step)
            step.row.status = WAITING
    approval.status = PENDING
    await _history(session, approval, actor, "resubmit", clock, opinion=note.strip())
    await audit.record(session, actor=actor, action="approval.resubmit", subject=approval.code, data={}, clock=clock)
    first = next(s for s in steps if not s.row.drafter)
    await _activate(session, approval, first, clock)
    await _touch(session, approval)
    return Outcome(approval, "resubmitted", _step_label(first), notified=[s.user_id for s in first.undecided])


async def withdraw(session: AsyncSession, approval_id: int, actor: str, clock: Clock, reason: str = "") -> Outcome:
    """The requester takes the approval back (撤回) while it has no final outcome."""
    approval = await _lock(session, approval_id)
    if actor != approval.requester:
        raise NotAllowed("approval.requester_only", code=approval.code)
    if approval.status not in (PENDING, RETURNED):
        raise NotAllowed("approval.closed", code=approval.code, status=approval.status)
    steps = await load_steps(session, approval_id)
    current = active_step(steps)
    waiting = [s.user_id for s in current.undecided] if current else []
    await _history(session, approval, actor, "withdraw", clock, opinion=reason.strip())
    await _finish(session, approval, WITHDRAWN, clock, reason=reason.strip(), tell_requester=False)
    await _touch(session, approval)
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
    approval = await _lock(session, approval_id)
    if actor != approval.requester:
        raise NotAllowed("approval.requester_only", code=approval.code)
    _require_pending(approval)
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
    label = _step_label(current) if current else ""
    await _history(session, approval, actor, "nudge", clock, step=label)
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


# -- the record --------------------------------------------------------------------------
async def append_body(session: AsyncSession, approval_id: int, actor: str, text: str, clock: Clock) -> Approval:
    """Text the requester posts in the card's thread becomes the body of the document."""
    approval = await _lock(session, approval_id)
    if actor != approval.requester:
        raise NotAllowed("approval.requester_only", code=approval.code)
    if approval.is_final:
        raise NotAllowed("approval.closed", code=approval.code, status=approval.status)
    text = text.strip()
    if not text:
        return approval
    approval.body = ((approval.body + "\n\n" if approval.body else "") + text)[: MAX_TEXT * 4]
    await audit.record(
        session, actor=actor, action="approval.body", subject=approval.code, data={"chars": len(text)}, clock=clock
    )
    await _touch(session, approval)
    return approval


async def add_attachment(
    session: AsyncSession, approval_id: int, actor: str, name: str, url: str | None, mimetype: str | None, clock: Clock
) -> Approval:
    approval = await _lock(session, approval_id)
    if actor != approval.requester:
        raise NotAllowed("approval.requester_only", code=approval.code)
    if approval.is_final:
        raise NotAllowed("approval.closed", code=approval.code, status=approval.status)
    item = {"name": name[:255], "url": url, "mimetype": mimetype, "by": actor, "at": clock.now().isoformat()}
    approval.attachments = [*(approval.attachments or []), item]
    await audit.record(session, actor=actor, action="approval.attach", subject=approval.code, data=item, clock=clock)
    await _touch(session, approval)
    return approval


HEADER_FIELDS = {"urgency": "urgency", "secrecy": "secrecy", "doc_number": "doc_number"}


async def set_header(
    session: AsyncSession, approval_id: int, actor: str, field_name: str, value: str, clock: Clock
) -> Approval:
    """Set a GB/T 9704 header field (urgency 紧急程度, secrecy 密级, doc_number 发文字号)."""
    if field_name not in HEADER_FIELDS:
        raise DomainError("approval.unknown_field", field=field_name[:20])
    approval = await _lock(session, approval_id)
    if actor != approval.requester:
        raise NotAllowed("approval.requester_only", code=approval.code)
    if approval.is_final:
        # The header is part of the decided record (a signed document's 密级 and 发文字号 are
        # what was signed): once final, it is frozen like the chain and the body.
        raise NotAllowed("approval.header_frozen", code=approval.code, status=approval.status)
    value = value.strip()[:120]
    setattr(approval, HEADER_FIELDS[field_name], value or None)
    await audit.record(
        session, actor=actor, action="approval.header", subject=approval.code, data={field_name: value}, clock=clock
    )
    await _touch(session, approval)
    return approval


# -- internals ---------------------------------------------------------------------------
async def _history(
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


async def _activate(
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
    await _ask(
        session, approval, step, [s.user_id for s in step.undecided], clock, returned_by=returned_by, reason=reason
    )
    policy = ApprovalPolicy.from_dict(approval.policy)
    if policy.remind_after_minutes > 0 and policy.remind_max > 0:
        await timers.schedule(
            session,
            REMIND,
            clock.now() + policy.remind_after,
            {"approval_id": approval.id, "step_id": step.row.id, "count": 0},
            key=_remind_key(approval.id),
            clock=clock,
        )


async def _ask(
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
    extra: dict[str, Any] = {}
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
        step=label_in(_step_label(step)),
        mode=render.mode_namer(step.row.mode, len(step.deciders)),
        topic=approval.code,
        **extra,
    )


async def _finish(
    session: AsyncSession,
    approval: Approval,
    status: str,
    clock: Clock,
    *,
    reason: str = "",
    tell_requester: bool = True,
) -> None:
    approval.status = status
    approval.decided_at = clock.now()
    await timers.cancel(session, _remind_key(approval.id))
    await audit.record(
        session,
        actor=SYSTEM if status != WITHDRAWN else approval.requester,
        action=f"approval.{status}",
        subject=approval.code,
        data={"reason": reason} if reason else {},
        clock=clock,
    )
    policy = ApprovalPolicy.from_dict(approval.policy)
    params = {"code": approval.code, "title": approval.title, "reason": reason or "—", "topic": approval.code}
    if tell_requester:
        await tell(session, approval.requester, f"approval.final_{status}", clock, policy, **params)
    # 抄送: the CC list learns the outcome once there is one.
    await tell_all(session, approval.cc, f"approval.cc_{status}", clock, policy, requester=approval.requester, **params)
    await _close_open_notices(session, approval, status, clock, policy)


async def _close_step_notices(
    session: AsyncSession, approval: Approval, step: Step, actor: str, decision: str, clock: Clock
) -> None:
    """The step closed on `actor`'s decision: the other approvers' DMs say so (或签 siblings, a reject)."""
    policy = ApprovalPolicy.from_dict(approval.policy)
    label = _step_label(step)
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


async def _close_open_notices(
    session: AsyncSession, approval: Approval, status: str, clock: Clock, policy: ApprovalPolicy
) -> None:
    """The approval ended: every DM still asking for a decision says it is over.

    Steps already closed had their notices edited when they closed (_close_step_notices);
    here the active step (a withdrawal) and waiting steps whose people were asked before a
    return. Someone never asked has no notice, and close_notice skips them.
    """
    key = "approval.notice_withdrawn" if status == WITHDRAWN else "approval.notice_ended"
    for step in await load_steps(session, approval.id):
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


async def _touch(session: AsyncSession, approval: Approval) -> None:
    """Count the change and edit the room card in place (if it was posted)."""
    approval.version = (approval.version or 0) + 1
    await session.flush()
    await refresh_card(session, approval)


async def refresh_card(session: AsyncSession, approval: Approval) -> None:
    steps = await load_steps(session, approval.id)
    content = render.card_content(approval, steps, now=approval.decided_at or approval.created_at)
    await outbox.enqueue_edit(session, card_ref(approval.id), content)


# -- timers ------------------------------------------------------------------------------
async def fire_reminder(session: AsyncSession, timer: Timer, clock: Clock) -> Fired | None:
    """A step has waited too long: remind its undecided approvers; after the last, tell the requester."""
    payload = dict(timer.payload or {})
    approval = await session.get(Approval, int(payload.get("approval_id", 0)))
    if approval is None or approval.status != PENDING:
        return None
    approval = await _lock(session, approval.id)
    steps = await load_steps(session, approval.id)
    current = active_step(steps)
    if current is None or current.row.id != payload.get("step_id"):
        return None
    policy = ApprovalPolicy.from_dict(approval.policy)
    count = int(payload.get("count", 0)) + 1
    waiting = [s.user_id for s in current.undecided]
    label = _step_label(current)
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
