"""What a confirmed step-up request does, handed to the server (which imports no feature).

An incident's close or declaration goes through emergency.confirm, as the person who asked it.

An approval's binding step (签发 …) is decided through the same `service.decide` as chat,
as the person the request names, with the credential that confirmed it recorded in the
audit entry; the service edits the card in the room through the outbox.
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from commands.approvals import service as approvals
from commands.approvals.handlers.confirm import KIND as APPROVAL
from commands.approvals.texts import render
from emergency import confirm as emergency_confirm
from records.clock import Clock
from records.errors import DomainError
from records.stepup import StepUpRequest
from zhiban.texts import tr

log = logging.getLogger(__name__)


async def complete(session: AsyncSession, request: StepUpRequest, credential: str, clock: Clock) -> str | None:
    """server.stepup.Completion: None when decided, else why not (in the request's language)."""
    if request.kind == emergency_confirm.CLOSE:
        return await emergency_confirm.complete_close(session, request, credential, clock)
    if request.kind == emergency_confirm.DECLARE:
        return await emergency_confirm.complete_declare(session, request, credential, clock)
    if request.kind != APPROVAL:
        # A request written by another version (a rolling upgrade): said as the page says it.
        log.warning("step-up request %s of unknown kind %r left undecided", request.id, request.kind)
        return tr("stepup.unknown_kind", request.lang)
    try:
        # A savepoint: a refusal leaves nothing of the decision, while the request is still
        # marked used in the same transaction.
        async with session.begin_nested():
            await approvals.decide(
                session,
                request.record_id,
                request.user_id,
                True,
                request.opinion,
                clock,
                confirmed_with=credential,
                at_position=request.step_position,
            )
    except DomainError as exc:
        try:
            return render(exc.key, request.lang, **exc.params)
        except KeyError:  # a refusal of the ground floor, not in the approvals catalog
            return exc.key
    return None
