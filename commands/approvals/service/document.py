"""The document an approval carries: its body and attachments (written in the card's thread)
and its GB/T 9704 header fields. Frozen once the approval is final."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from commands.approvals.models import Approval
from commands.approvals.service.changes import MAX_TEXT
from commands.approvals.service.engine import touch
from commands.approvals.service.queries import lock
from records import audit
from records.clock import Clock
from records.errors import DomainError, NotAllowed


async def append_body(session: AsyncSession, approval_id: int, actor: str, text: str, clock: Clock) -> Approval:
    """Text the requester posts in the card's thread becomes the body of the document."""
    approval = await lock(session, approval_id)
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
    await touch(session, approval)
    return approval


async def add_attachment(
    session: AsyncSession, approval_id: int, actor: str, name: str, url: str | None, mimetype: str | None, clock: Clock
) -> Approval:
    approval = await lock(session, approval_id)
    if actor != approval.requester:
        raise NotAllowed("approval.requester_only", code=approval.code)
    if approval.is_final:
        raise NotAllowed("approval.closed", code=approval.code, status=approval.status)
    item = {"name": name[:255], "url": url, "mimetype": mimetype, "by": actor, "at": clock.now().isoformat()}
    approval.attachments = [*(approval.attachments or []), item]
    await audit.record(session, actor=actor, action="approval.attach", subject=approval.code, data=item, clock=clock)
    await touch(session, approval)
    return approval


HEADER_FIELDS = {"urgency": "urgency", "secrecy": "secrecy", "doc_number": "doc_number"}


async def set_header(
    session: AsyncSession, approval_id: int, actor: str, field_name: str, value: str, clock: Clock
) -> Approval:
    """Set a GB/T 9704 header field (urgency 紧急程度, secrecy 密级, doc_number 发文字号)."""
    if field_name not in HEADER_FIELDS:
        raise DomainError("approval.unknown_field", field=field_name[:20])
    approval = await lock(session, approval_id)
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
    await touch(session, approval)
    return approval
