"""The approvals section of the board: what waits on the viewer, what they started, and for
leaders and admins what is stuck.

Every item passes the same rule as `!审批 查看` (access.can_see): a leader's "stuck" list holds
only approvals they are on (or CC'd on), since leaders get no blanket view of approvals.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from commands import visibility
from commands.approvals import access
from commands.approvals.models import ACTIVE, PENDING, RETURNED, Approval, ApprovalSigner, ApprovalStep
from commands.approvals.policy import ApprovalPolicy
from commands.approvals.render import label_in
from commands.approvals.texts import render
from commands.board_section import Action, Item, Section, Viewer
from records.people import Role
from timeparse import format_duration

#: Roles that see what is stuck (among the approvals they may see at all).
STUCK_VIEW = frozenset({Role.LEADER.value, Role.ADMIN.value})
LIMIT = 10
# No step counts as stuck sooner than this, whatever an approval's own rule says: the query
# narrows with it and each approval's frozen `stuck_after_hours` decides.
SHORTEST_STUCK = timedelta(hours=1)


def _step_name(step: ApprovalStep, lang: str) -> str:
    return label_in(step.name or f"#{step.position + 1}")(lang)


async def _active_steps(session: AsyncSession, ids: Sequence[int]) -> dict[int, ApprovalStep]:
    if not ids:
        return {}
    rows = await session.scalars(
        select(ApprovalStep).where(ApprovalStep.approval_id.in_(ids), ApprovalStep.status == ACTIVE)
    )
    return {row.approval_id: row for row in rows}


async def _undecided(session: AsyncSession, steps: Sequence[ApprovalStep]) -> dict[int, list[str]]:
    if not steps:
        return {}
    rows = await session.execute(
        select(ApprovalSigner.step_id, ApprovalSigner.user_id)
        .where(ApprovalSigner.step_id.in_([s.id for s in steps]), ApprovalSigner.decision.is_(None))
        .order_by(ApprovalSigner.id)
    )
    found: dict[int, list[str]] = {}
    for step_id, user in rows:
        found.setdefault(step_id, []).append(user)
    return found


def _waited(step: ApprovalStep | None, now: datetime, lang: str) -> str:
    started = step.started_at if step is not None else None
    return format_duration((now - started).total_seconds(), lang) if started else ""


def _step_line(step: ApprovalStep | None, now: datetime, lang: str) -> tuple[str, ...]:
    if step is None:
        return ()
    return (render("board.approvals.at_step", lang, step=_step_name(step, lang), waited=_waited(step, now, lang)),)


async def _waiting_on_me(session: AsyncSession, viewer: Viewer, now: datetime) -> list[Item]:
    rows = await session.execute(
        select(Approval, ApprovalStep)
        .join(ApprovalSigner, ApprovalSigner.approval_id == Approval.id)
        .join(ApprovalStep, ApprovalStep.id == ApprovalSigner.step_id)
        .where(
            Approval.status == PENDING,
            ApprovalStep.status == ACTIVE,
            ApprovalSigner.user_id == viewer.user_id,
            ApprovalSigner.decision.is_(None),
        )
        .order_by(ApprovalStep.started_at, Approval.id)
        .limit(LIMIT)
    )
    lang = viewer.lang
    group = render("board.approvals.waiting", lang)
    items: list[Item] = []
    for approval, step in rows.tuples():
        lines = (render("board.approvals.from", lang, user=approval.requester), *_step_line(step, now, lang))
        actions = (
            Action("approve", approval.code, render("board.approvals.approve", lang)),
            Action("reject", approval.code, render("board.approvals.reject", lang), needs_text=True),
        )
        items.append(Item(ref=approval.code, title=approval.title, lines=lines, actions=actions, group=group))
    return items


async def _started_by_me(session: AsyncSession, viewer: Viewer, now: datetime) -> list[Item]:
    mine = list(
        await session.scalars(
            select(Approval)
            .where(Approval.requester == viewer.user_id, Approval.status.in_((PENDING, RETURNED)))
            .order_by(Approval.id.desc())
            .limit(LIMIT)
        )
    )
    steps = await _active_steps(session, [a.id for a in mine])
    lang = viewer.lang
    group = render("board.approvals.mine", lang)
    items = []
    for approval in mine:
        step = steps.get(approval.id)
        lines = (
            _step_line(step, now, lang) if approval.status == PENDING else (render("board.approvals.returned", lang),)
        )
        items.append(Item(ref=approval.code, title=approval.title, lines=lines, group=group))
    return items


async def _stuck(session: AsyncSession, viewer: Viewer, now: datetime) -> list[Item]:
    roles = viewer.roles
    query = (
        access.candidates(viewer.user_id, roles)
        .join(ApprovalStep, and_(ApprovalStep.approval_id == Approval.id, ApprovalStep.status == ACTIVE))
        .where(Approval.status == PENDING, ApprovalStep.started_at <= now - SHORTEST_STUCK)
        .order_by(None)
        .order_by(ApprovalStep.started_at, Approval.id)
    )
    seen = await visibility.first_visible(access.can_see, session, query, viewer.user_id, roles, limit=LIMIT)
    steps = await _active_steps(session, [a.id for a in seen])
    late = [
        (approval, steps[approval.id])
        for approval in seen
        if approval.id in steps
        and now - (steps[approval.id].started_at or now) >= ApprovalPolicy.from_dict(approval.policy).stuck_after
    ]
    waiting = await _undecided(session, [step for _, step in late])
    lang = viewer.lang
    group = render("board.approvals.stuck", lang)
    items = []
    for approval, step in late:
        people = render(
            "board.approvals.waiting_on", lang, people=("、" if lang == "zh" else ", ").join(waiting.get(step.id, []))
        )
        lines = (*_step_line(step, now, lang), people)
        items.append(Item(ref=approval.code, title=approval.title, lines=lines, late=True, group=group))
    return items


async def approvals_section(session: AsyncSession, viewer: Viewer, now: datetime) -> Section:
    items = [*await _waiting_on_me(session, viewer, now)]
    if STUCK_VIEW & viewer.roles:
        shown = {item.ref for item in items}
        items += [item for item in await _stuck(session, viewer, now) if item.ref not in shown]
    items += await _started_by_me(session, viewer, now)
    return Section(
        key="approvals",
        title=render("board.approvals.title", viewer.lang),
        items=tuple(items),
        empty=render("board.approvals.empty", viewer.lang),
    )
