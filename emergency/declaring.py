"""Declaring an incident, the same from chat and from the phone's confirmation (emergency.confirm).

Nothing here talks to a homeserver: the incident is written, its room is an outbox action the
bot's relay performs once (incidents.queue_room), and the announcements and alert DMs are
outbox rows waiting for that room. So a grade Ⅰ/Ⅱ declaration confirmed on the web page makes
the same room, invites and pins as one typed in chat.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from emergency import incidents, outreach
from emergency.models import Incident
from emergency.policy import ROMAN, Policy
from emergency.texts import tr
from notifications import reach
from records import outbox
from records.clock import Clock
from timeparse import format_when


@dataclass(frozen=True)
class Asked:
    """What a declaration asks for, as typed (and as kept in a step-up request)."""

    actor: str
    grade: int
    category: str | None
    title: str
    people: incidents.People
    lang: str
    tz: str
    bot_user_id: str
    duty_room: str | None
    origin: str


@dataclass(frozen=True)
class Declared:
    incident: Incident
    reply: str  # to the declarer, in `Asked.lang`; send it, then `outbox.wait_for_room(room_ref)`
    room_ref: int
    params: dict[str, object]
    invited: list[str]


def alert_params(incident: Incident, lang: str, *, room_ref: int | None = None) -> dict[str, object]:
    """`room_ref`: the room is still being created; the relay fills its link in (outbox.ROOM_LINK)."""
    link = outreach.room_link(incident.room_id) if incident.room_id else (outbox.ROOM_LINK if room_ref else "—")
    return {
        "id": incident.code,
        "grade": ROMAN[incident.grade],
        "category": incident.category or tr("em.card.no_class", lang),
        "title": incident.title,
        "by": incident.declared_by,
        "link": link,
    }


async def alert(
    session: AsyncSession, incident: Incident, users: list[str], clock: Clock, *, room_ref: int | None = None
) -> None:
    """The alert DM (with the room's link and a ✅ to acknowledge it) and a push, once per person.

    With `room_ref` (a declaration) the DMs wait for the room, so that their link works."""
    alerted = await incidents.note_alerted(session, incident, users, clock)
    for user in alerted:
        lang = await reach.language_of(session, user, incident.lang)
        text = tr("em.incident.alert_dm", lang, **alert_params(incident, lang, room_ref=room_ref))
        ref = incidents.alert_ref(incident, user)
        await reach.dm(session, user, text, ref=ref, urgent=True, room_ref=room_ref)
    await outreach.push(
        session,
        alerted,
        kind="emergency",
        title_key="em.push.declared",
        body=incident.title,
        clock=clock,
        ref=f"incident:{incident.code}",
        **alert_params(incident, incident.lang, room_ref=room_ref),
    )


async def declare(
    session: AsyncSession, asked: Asked, policy: Policy, clock: Clock, *, confirmed_with: str | None = None
) -> Declared:
    """Open the incident and queue its room; then the caller replies, and calls `announce`."""
    incident = await incidents.declare(
        session,
        actor=asked.actor,
        grade=asked.grade,
        category=asked.category,
        title=asked.title,
        people=asked.people,
        policy=policy,
        clock=clock,
        lang=asked.lang,
        tz=asked.tz,
        confirmed_with=confirmed_with,
    )
    invite = [u for u in incident.members if u != asked.bot_user_id]
    room_ref = await incidents.queue_room(
        session,
        incident,
        name=f"{incident.code} {ROMAN[asked.grade]}级 {incident.title}"[:200],
        topic=tr("em.incident.topic", asked.lang, id=incident.code, title=incident.title),
        clock=clock,
    )
    due = (
        format_when(incident.next_report_due, tz=asked.tz, lang=asked.lang, now=clock.now())
        if incident.next_report_due
        else "—"
    )
    params = alert_params(incident, asked.lang, room_ref=room_ref)
    params.update(room=outbox.ROOM_ID, due=due, count=len(invite))
    reply = tr("em.incident.declared", asked.lang, **params)
    if asked.category is None:
        # Never hold the room back for a missing word at 3 a.m.: declare now, and say plainly
        # that the class-bound responders are not in, and the one command that brings them.
        reply += "\n" + tr("em.incident.no_class_note", asked.lang, id=incident.code)
    return Declared(incident, reply, room_ref, params, invite)


async def announce(session: AsyncSession, asked: Asked, declared: Declared, clock: Clock) -> None:
    """After the reply to the declarer: the duty room is told, and the people alerted."""
    incident = declared.incident
    if asked.duty_room and asked.duty_room != asked.origin:
        duty_text = tr("em.incident.duty_room", incident.lang, **declared.params)
        await outreach.post(session, asked.duty_room, duty_text, urgent=True)
    users = [u for u in declared.invited if u != asked.actor]
    await alert(session, incident, users, clock, room_ref=declared.room_ref)
