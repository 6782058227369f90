"""A ✅ on a binding step (签发 …) does not decide: it opens a step-up request and answers
with the link to the confirmation page, where a passkey or a TOTP code completes it
(records.stepup; the page is server/stepup_routes.py, the completion zhiban/stepup_wiring.py)."""

from __future__ import annotations

import html

from sqlalchemy.ext.asyncio import AsyncSession

from commands.approvals import service
from commands.turn import Turn
from notifications.names import mentions, names_for
from records import audit, outbox, stepup
from records.clock import Clock

KIND = "approval"


async def open_request(
    session: AsyncSession,
    needed: service.ConfirmationNeeded,
    actor: str,
    opinion: str,
    *,
    lang: str,
    minutes: int,
    clock: Clock,
    token: str | None = None,
    asked_from: str = "chat",
) -> str:
    """Open the step-up request of a binding step and audit it; its token (see records.stepup)."""
    approval, step = needed.approval, needed.step
    token = await stepup.open_request(
        session,
        user_id=actor,
        kind=KIND,
        record_id=approval.id,
        subject=approval.code,
        title=approval.title,
        step=step.label,
        step_position=step.row.position,
        opinion=opinion.strip()[: service.MAX_TEXT],
        lang=lang,
        minutes=minutes,
        clock=clock,
        token=token,
    )
    await audit.record(
        session,
        actor=actor,
        action="approval.confirm_asked",
        subject=approval.code,
        data={"step": step.label, "position": step.row.position, "minutes": minutes, "from": asked_from},
        clock=clock,
    )
    return token


async def ask_confirmation(turn: Turn, needed: service.ConfirmationNeeded, actor: str, opinion: str) -> tuple[str, str]:
    """Open the request and return the answer (plain text, HTML) with its link."""
    approval, step = needed.approval, needed.step
    minutes = turn.settings.stepup.minutes
    token = await open_request(turn.session, needed, actor, opinion, lang=turn.lang, minutes=minutes, clock=turn.clock)
    link = stepup.confirm_url(turn.settings.server.public_url, token)
    text = turn.t("approval.confirm_link", code=approval.code, step=step.label, link=link, minutes=minutes)
    formatted = turn.t(
        "approval.confirm_link_html",
        code=html.escape(approval.code),
        step=html.escape(step.label),
        link=html.escape(link, quote=True),
        minutes=minutes,
    )
    return text, formatted


async def answer_reaction(
    turn: Turn, needed: service.ConfirmationNeeded, actor: str, *, in_dm: bool
) -> dict[str, object]:
    """The answer to a ✅ on a binding step (as Matrix content): in a shared room it
    names and mentions the person, who alone must act on it."""
    text, formatted = await ask_confirmation(turn, needed, actor, "")
    if in_dm:
        return outbox.text_content(text, formatted)
    names = await names_for(turn.session, users=[actor])
    content = outbox.text_content(
        turn.t("approval.confirm_for", user=names.of(actor), text=text),
        turn.t("approval.confirm_for", user=names.pill(actor), text=formatted),
    )
    content["m.mentions"] = mentions([actor])
    return content
