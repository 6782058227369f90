"""Reading approvals: their names (A12, card and notice refs), rows, steps and lists.

No changes here; `lock` reads the row for a change, under the lock every change takes first.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from commands.approvals.models import (
    ACTIVE,
    APPROVED,
    PENDING,
    REJECTED,
    RETURNED,
    WITHDRAWN,
    Approval,
    ApprovalHistory,
    ApprovalSigner,
    ApprovalStep,
    Step,
)
from records.errors import NotFound

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


async def get_approval(session: AsyncSession, approval_id: int) -> Approval:
    approval = await session.get(Approval, approval_id)
    if approval is None:
        raise NotFound("approval.not_found", code=f"A{approval_id}")
    return approval


async def lock(session: AsyncSession, approval_id: int) -> Approval:
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
    """The chain's steps with their signers, read fresh, in one query (a step and its signers
    per row, a step without signers once)."""
    rows = await session.execute(
        select(ApprovalStep, ApprovalSigner)
        .outerjoin(ApprovalSigner, ApprovalSigner.step_id == ApprovalStep.id)
        .where(ApprovalStep.approval_id == approval_id)
        .order_by(ApprovalStep.position, ApprovalSigner.id)
        .execution_options(populate_existing=True)
    )
    by_id: dict[int, Step] = {}
    for step_row, signer in rows.tuples():
        step = by_id.get(step_row.id)
        if step is None:
            step = by_id[step_row.id] = Step(step_row)
        if signer is not None:
            step.signers.append(signer)
    return list(by_id.values())


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
