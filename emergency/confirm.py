"""Closing an incident, and declaring one of grade Ⅰ or Ⅱ, wait for the phone: a passkey or a
TOTP code (records.stepup).

`!incident close E5` checks who asks, then only opens a step-up request (with the rooms to
tell) and answers with the link; the confirmation page completes it through `complete_close`
(wired in zhiban.stepup_wiring), in the web server's transaction. The close itself touches no
homeserver: the final report and the notices are outbox rows, and the .docx is an outbox action
(`emergency.final_docx`) that the bot's relay uploads once, after the commit, as from chat.

A declaration is kept whole in the request (grade, class, title, the people on duty then, the
report clocks of the policy then, the rooms to tell): `complete_declare` declares exactly that,
through emergency.declaring, whose room is an outbox action the relay performs once.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from bot.client import BotClient
from bot.errors import MatrixError
from bot.grammar import TEXTS as GRAMMAR_TEXTS
from bot.i18n import Catalog
from bot.texts import TEXTS as BOT_TEXTS
from commands.turn import Turn
from emergency import closing, declaring, final_report, incidents, outreach
from emergency.models import Incident
from emergency.policy import ROMAN, Policy
from emergency.texts import TEXTS, tr
from records import audit, outbox, stepup
from records.clock import Clock
from records.config import EmergencySettings
from records.errors import DomainError
from records.outbox_actions import Outcome, enqueue_action, register
from records.stepup import Refusal, StepUpRequest

log = logging.getLogger(__name__)

CLOSE = "incident_close"
DECLARE = "incident_declare"
#: The grades whose declaration binds (stepup.incident_declare).
BINDING_GRADES = (1, 2)
DOCX = "emergency.final_docx"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


async def ask_close(
    turn: Turn, incident: Incident, *, actor: str, office_roles: set[str], origin: str, duty_room: str | None
) -> tuple[str, str]:
    """Open the request to close `incident` and return the answer (plain text, HTML)."""
    closing.check_may_close(incident, actor, office_roles)
    minutes = turn.settings.stepup.minutes
    token = await stepup.open_request(
        turn.session,
        user_id=actor,
        kind=CLOSE,
        record_id=incident.id,
        subject=incident.code,
        title=incident.title,
        step=turn.t("em.confirm.close_step"),
        step_position=0,
        opinion="",
        lang=turn.lang,
        minutes=minutes,
        clock=turn.clock,
        details={"office_roles": sorted(office_roles), "origin": origin, "duty_room": duty_room},
    )
    await audit.record(
        turn.session,
        actor=actor,
        action="incident.close_asked",
        subject=incident.code,
        data={"minutes": minutes},
        clock=turn.clock,
    )
    link = stepup.confirm_url(turn.settings.server.public_url, token)
    text = turn.t("em.confirm.close_link", id=incident.code, link=link, minutes=minutes)
    formatted = turn.t(
        "em.confirm.close_link_html",
        id=html.escape(incident.code),
        link=html.escape(link, quote=True),
        minutes=minutes,
    )
    return text, formatted


async def ask_declare(turn: Turn, asked: declaring.Asked) -> tuple[str, str]:
    """Open the request to declare what `asked` says and return the answer (plain text, HTML)."""
    minutes = turn.settings.stepup.minutes
    grade = ROMAN[asked.grade]
    token = await stepup.open_request(
        turn.session,
        user_id=asked.actor,
        kind=DECLARE,
        record_id=0,
        subject=f"{grade}级"[:64],
        title=asked.title,
        step=turn.t("em.confirm.declare_step", grade=grade),
        step_position=0,
        opinion="",
        lang=turn.lang,
        minutes=minutes,
        clock=turn.clock,
        details={
            "grade": asked.grade,
            "category": asked.category,
            "title": asked.title,
            "leaders": asked.people.duty_leaders,
            "officers": asked.people.duty_officers,
            "responders": asked.people.responders,
            "tz": asked.tz,
            "bot": asked.bot_user_id,
            "duty_room": asked.duty_room,
            "origin": asked.origin,
            # The report clocks as configured when it was asked.
            "emergency": turn.settings.emergency.model_dump(mode="json"),
        },
    )
    await audit.record(
        turn.session,
        actor=asked.actor,
        action="incident.declare_asked",
        subject=f"{grade}级",
        data={"grade": asked.grade, "category": asked.category, "title": asked.title, "minutes": minutes},
        clock=turn.clock,
    )
    link = stepup.confirm_url(turn.settings.server.public_url, token)
    text = turn.t("em.confirm.declare_link", grade=grade, title=asked.title, link=link, minutes=minutes)
    formatted = turn.t(
        "em.confirm.declare_link_html",
        grade=grade,
        title=html.escape(asked.title),
        link=html.escape(link, quote=True),
        minutes=minutes,
    )
    return text, formatted


# A refusal met while completing may come from below the feature (records.directory's people.*
# keys, whose texts are the framework's): the page says it from all of these texts.
_REFUSALS = Catalog(TEXTS, BOT_TEXTS, GRAMMAR_TEXTS)


def _why(exc: DomainError) -> Refusal:
    """A refusal met while completing, in both languages (the page shows both)."""
    return Refusal.of(lambda lang: _said(exc, lang))


def _said(exc: DomainError, lang: str) -> str:
    """A refusal in `lang`; never its key: a key with no text (or parameters its text does
    not take) reads as a generic refusal, and is logged."""
    if exc.key in _REFUSALS:
        try:
            said = _REFUSALS.t(exc.key, lang, **exc.params)
            # Given no parameters, Catalog.t leaves the text unformatted: "{id}" would show.
            return said if exc.params else said.format()
        except (KeyError, IndexError, ValueError):
            log.warning("refusal %r has parameters its text does not take: %s", exc.key, sorted(exc.params))
    else:
        log.warning("refusal %r has no text: the page shows the generic refusal", exc.key)
    return tr("em.confirm.refused", lang)


def _strings(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


async def complete_declare(
    session: AsyncSession, request: StepUpRequest, credential: str, clock: Clock
) -> Refusal | None:
    """The confirmed declaration: None when declared, else why not."""
    details = request.details or {}
    category = details.get("category")
    asked = declaring.Asked(
        actor=request.user_id,
        grade=int(str(details.get("grade"))),
        category=str(category) if category else None,
        title=str(details.get("title") or request.title),
        people=incidents.People(
            _strings(details.get("leaders")), _strings(details.get("officers")), _strings(details.get("responders"))
        ),
        lang=request.lang,
        tz=str(details.get("tz") or "Asia/Shanghai"),
        bot_user_id=str(details.get("bot") or ""),
        duty_room=str(details["duty_room"]) if details.get("duty_room") else None,
        origin=str(details.get("origin") or ""),
    )
    section = details.get("emergency")
    policy = Policy.from_settings(EmergencySettings.model_validate(section if isinstance(section, dict) else {}))
    try:
        async with session.begin_nested():
            declared = await declaring.declare(session, asked, policy, clock, confirmed_with=credential)
            if asked.origin:
                row = await outbox.enqueue(session, outbox.text_content(declared.reply), room_id=asked.origin)
                await outbox.wait_for_room(session, row.id, declared.room_ref)
            await declaring.announce(session, asked, declared, clock)
    except DomainError as exc:
        return _why(exc)
    return None


async def finish_close(
    session: AsyncSession,
    incident: Incident,
    *,
    actor: str,
    office_roles: set[str],
    origin: str,
    duty_room: str | None,
    clock: Clock,
    confirmed_with: str | None = None,
) -> str:
    """Close `incident` and queue what the rooms are told; the room the final report went to."""
    markdown = await closing.close(
        session, incident, actor=actor, office_roles=office_roles, clock=clock, confirmed_with=confirmed_with
    )
    target = incident.room_id or origin
    await outreach.post(session, target, markdown, html=markdown_html(markdown))
    if duty_room and duty_room not in (target, origin):
        await outreach.post(session, duty_room, tr("em.incident.closed_duty", incident.lang, id=incident.code))
    payload = {"room_id": target, "code": incident.code, "name": final_report.file_name(incident), "markdown": markdown}
    await enqueue_action(session, DOCX, payload, room_id=target, ref=f"final-docx:{incident.code}")
    return target


async def complete_close(
    session: AsyncSession, request: StepUpRequest, credential: str, clock: Clock
) -> Refusal | None:
    """The confirmed close: None when closed, else why not."""
    incident = await session.get(Incident, request.record_id)
    if incident is None:
        return Refusal.of(lambda lang: tr("em.incident.not_found", lang, id=request.subject))
    details = request.details or {}
    origin = str(details.get("origin") or incident.room_id or "")
    duty = details.get("duty_room")
    roles = details.get("office_roles")
    try:
        # A savepoint: a refusal (closed meanwhile …) leaves nothing, while the request is
        # still marked used in the same transaction.
        async with session.begin_nested():
            target = await finish_close(
                session,
                incident,
                actor=request.user_id,
                office_roles={str(r) for r in roles} if isinstance(roles, list) else set(),
                origin=origin,
                duty_room=str(duty) if duty else None,
                clock=clock,
                confirmed_with=credential,
            )
            if origin and origin != target:
                await outreach.post(session, origin, tr("em.incident.closed_reply", request.lang, id=incident.code))
    except DomainError as exc:
        return _why(exc)
    return None


def markdown_html(markdown: str) -> str:
    out = []
    for line in markdown.splitlines():
        esc = html.escape(line, quote=False)
        for level in (3, 2, 1):
            if line.startswith("#" * level + " "):
                esc = f"<h{level + 1}>{html.escape(line[level + 1 :], quote=False)}</h{level + 1}>"
                break
        else:
            esc = esc + "<br/>" if esc else ""
        out.append(esc)
    return "".join(out)


def _nothing() -> Callable[[AsyncSession], Awaitable[None]]:
    async def record(_session: AsyncSession) -> None:
        return None

    return record


async def upload_docx(client: BotClient, payload: dict[str, object]) -> Outcome:
    """The final report as .docx too, best effort: the Markdown already posted is the record."""
    room_id, code, name = str(payload["room_id"]), str(payload["code"]), str(payload["name"])
    data = final_report.markdown_to_docx(str(payload["markdown"]))
    try:
        url = await client.upload(data, content_type=DOCX_TYPE, filename=name)
    except MatrixError as exc:
        if exc.status_code is None:
            raise  # the homeserver did not answer: the relay tries again
        log.warning("could not attach the .docx final report of %s", code, exc_info=True)
        return Outcome(_nothing(), refused=f"upload refused: {exc.status_code}")
    content = {
        "msgtype": "m.file",
        "body": name,
        "url": url,
        "info": {"size": len(data), "mimetype": DOCX_TYPE},
    }

    async def record(session: AsyncSession) -> None:
        await outbox.enqueue(session, content, room_id=room_id, ref=f"final:{code}")

    return Outcome(record)


register(DOCX, upload_docx)
