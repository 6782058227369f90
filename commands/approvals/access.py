"""Who may see an approval: the one rule behind every read (show, list, export, search).

An approval is seen by its drafter (the requester), by everyone who is or was a signer of
any step (transferred-to and added signers included, since they are signer rows), by its
CC recipients, and by office admins. Leaders get no blanket view: approvals carry a secrecy
grade (密级), and a leader who must read one is put on its chain or its CC list. Room power
level 100 (room_admin) grants nothing here either: it is whoever created a Matrix room, not
an office role.

Someone the rule does not admit gets exactly the answer for an approval that does not
exist, so a refusal never confirms that the record is there.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from commands import visibility
from commands.approvals.models import Approval, ApprovalSigner
from commands.visibility import is_admin
from records.errors import NotFound


async def can_see(session: AsyncSession, approval: Approval, viewer: str, roles: Collection[str]) -> bool:
    if is_admin(roles) or viewer == approval.requester or viewer in (approval.cc or []):
        return True
    signer = await session.scalar(
        select(ApprovalSigner.id)
        .where(ApprovalSigner.approval_id == approval.id, ApprovalSigner.user_id == viewer)
        .limit(1)
    )
    return signer is not None


def not_found(approval_id: int) -> NotFound:
    """The error for a missing approval; a hidden one gets the very same."""
    return NotFound("approval.not_found", code=f"A{approval_id}")


async def require_visible(session: AsyncSession, approval: Approval, viewer: str, roles: Collection[str]) -> Approval:
    return await visibility.require(can_see, not_found, session, approval, viewer, roles)


async def visible_approvals(
    session: AsyncSession, viewer: str, roles: Collection[str], *, limit: int = 20
) -> list[Approval]:
    """The newest approvals `viewer` may see, newest first."""
    return await visibility.first_visible(can_see, session, candidates(viewer, roles), viewer, roles, limit=limit)


def candidates(viewer: str, roles: Collection[str]) -> Select[Approval]:
    """Approvals `viewer` may see, newest first, as a query to narrow further (search adds its words).

    The query only narrows (the CC list is JSON, matched as text); `can_see` has the last word.
    """
    query = select(Approval).order_by(Approval.id.desc())
    if not is_admin(roles):
        signed = select(ApprovalSigner.approval_id).where(ApprovalSigner.user_id == viewer)
        copied = visibility.json_names(Approval.cc, viewer)
        query = query.where(or_(Approval.requester == viewer, Approval.id.in_(signed), copied))
    return query


async def search(
    session: AsyncSession, viewer: str, roles: Collection[str], terms: Sequence[str], *, limit: int = 10
) -> list[Approval]:
    """`!search`: approvals `viewer` may see whose title holds every one of `terms` (lower case)."""
    if not terms:
        return []
    query = candidates(viewer, roles).where(*visibility.holds_every(Approval.title, terms))
    return await visibility.first_visible(can_see, session, query, viewer, roles, limit=limit)
