"""Chat handlers of incidents: !incident declare|close|escalate, !role, !timeline, 📌 and ✅.

A declaration talks to no homeserver: in its transaction it writes the incident and an outbox
action "create the incident room" (invitations and the commanders' moderator power included),
followed by the summary card, its pin, the reply to the declarer and the alert DMs, which wait
for that room (`room_ref`). The relay creates the room once, even if the bot is killed half way
(zhiban.relay), and records its id on the incident; the card is then an outbox row under
"card:E5" that later edits and reactions find like any other card.

A declaration without a class (自然灾害 / 事故灾难 / 公共卫生 / 社会安全) is never held back
to ask for one: at 3 a.m. the room and the duty leader come first. Responders are configured
by class, so they are not invited then; the reply and the summary card say so plainly, with
the one command that fixes it (`!应急 类别 E5 自然灾害`), which sets the class, invites the
responders configured for it and the grade, and sends them the alert DM.

The alert DM names the declarer, the class and the room (a matrix.to link); a ✅ on it is the
person's acknowledgement of the declaration, shown on the card as "启动通知确认 n/m".
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from bot import UNHANDLED, CommandObject, Message, Reaction, ReactionEvent, Refusal, Router, UserFacingError
from bot.errors import MatrixError
from bot.i18n import Translator
from commands.turn import Turn
from emergency import access, cards, confirm, declaring, incidents, orders, outreach, room_admin, roster
from emergency.commands import INCIDENT, ROLE, TIMELINE
from emergency.handlers import common
from emergency.policy import ROMAN, parse_category, parse_grade
from emergency.texts import tr
from records import outbox
from records.clock import Clock
from timeparse import format_when

log = logging.getLogger(__name__)

# No default: text that is no sub-command word (and no E5) is refused, never a declaration.


async def _grade_and_rest(words: list[str]) -> tuple[int, str | None, str]:
    if not words:
        raise UserFacingError("em.incident.grade_missing", usage_of="incident")
    grade = parse_grade(words[0])
    if grade is None:
        raise UserFacingError("em.incident.bad_grade", usage_of="incident", value=words[0][:20])
    rest = words[1:]
    category = parse_category(rest[0]) if rest else None
    if category is not None:
        rest = rest[1:]
    return grade, category, " ".join(rest)


async def incident_command(message: Message, command: CommandObject, turn: Turn) -> None:
    # The framework has read the first word from INCIDENT_SUBS into `command.sub`.
    words = command.argv
    act = SUBCOMMANDS.get(command.sub or "")
    if act is not None:
        await act(message, words[1:], turn)
    elif not words:
        await _list(message, words, turn)
    elif incidents.parse_code(words[0]) is not None:  # `!incident E5`: the short form of show
        await _show(message, words, turn)
    else:
        raise UserFacingError("em.incident.unknown_sub", usage_of="incident", value=words[0][:20])


async def _declare(message: Message, words: list[str], turn: Turn) -> None:
    if not await common.is_duty_staff(turn.session, turn.roles, message.sender, turn.clock):
        raise Refusal("em.incident.declare_not_allowed")
    grade, category, title = await _grade_and_rest(words)
    if not title:
        raise UserFacingError("em.incident.no_title", usage_of="incident")
    policy = common.policy_of(turn.settings)
    shift = await roster.shift_at(turn.session, turn.clock.now())
    leaders = ([shift.leader] if shift and shift.leader else []) or turn.roles.configured("duty_leader")
    officers = (list(shift.officers) if shift and shift.officers else []) or turn.roles.configured("duty_officer")
    asked = declaring.Asked(
        actor=message.sender,
        grade=grade,
        category=category,
        title=title,
        people=incidents.People(leaders, officers, policy.responders_for(category, grade)),
        lang=turn.lang,
        tz=turn.tz,
        bot_user_id=turn.client.user_id,
        duty_room=await room_admin.duty_room_id(turn.settings, turn.client),
        origin=message.room_id,
    )
    if grade in confirm.BINDING_GRADES and turn.settings.stepup.incident_declare:
        # Binding: nothing is declared until the phone confirms (emergency.confirm).
        text, formatted = await confirm.ask_declare(turn, asked)
        await message.reply(text, html=formatted)
        return
    declared = await declaring.declare(turn.session, asked, policy, turn.clock)
    sent = await message.reply(declared.reply)
    # "Declared, the room is made": said once it is (a fraction of a second, or after an outage).
    await outbox.wait_for_room(turn.session, sent.outbox_id, declared.room_ref)
    await declaring.announce(turn.session, asked, declared, turn.clock)


async def _set_class(message: Message, words: list[str], turn: Turn) -> None:
    """`!incident class E5 natural`: the class, and the responders configured for it invited now."""
    viewer = await common.viewer_of(turn.session, turn.roles, message, turn.clock)
    incident, rest = await common.resolve_incident(turn.session, message, words, viewer)
    category = parse_category(rest[0]) if rest else None
    if category is None:
        raise UserFacingError("em.incident.bad_class", usage_of="incident", value=(rest[0] if rest else "")[:20])
    before = incident.category or turn.t("em.card.no_class")
    fresh = await incidents.set_category(
        turn.session,
        incident,
        category=category,
        actor=message.sender,
        office_roles=set(viewer.office_roles),
        policy=common.policy_of(turn.settings),
        clock=turn.clock,
    )
    params: dict[str, object] = {"id": incident.code, "before": before, "after": category}
    if fresh:
        reply = turn.t("em.incident.class_set", count=len(fresh), users=" ".join(fresh), **params)
    else:
        reply = turn.t("em.incident.class_set_nobody", **params)
    await message.reply(reply)
    # The room may not be made yet: then the post and the alerts (for its link) wait for it, and
    # the relay invites the newcomers with the other members (`incidents._room_made`).
    room, made_by = await incidents.room_of(turn.session, incident)
    if room != message.room_id:
        await outreach.post(turn.session, room, reply, room_ref=made_by)
    await room_admin.queue_admission(turn.session, room, fresh)
    alerted = [u for u in fresh if u != message.sender]
    await declaring.alert(turn.session, incident, alerted, turn.clock, room_ref=made_by)


async def _close(message: Message, words: list[str], turn: Turn) -> None:
    viewer = await common.viewer_of(turn.session, turn.roles, message, turn.clock)
    incident, _ = await common.resolve_incident(turn.session, message, words, viewer)
    office = set(viewer.office_roles)
    duty_room = await room_admin.duty_room_id(turn.settings, turn.client)
    if turn.settings.stepup.incident_close:
        # Binding: nothing is closed until the phone confirms (emergency.confirm).
        text, formatted = await confirm.ask_close(
            turn, incident, actor=message.sender, office_roles=office, origin=message.room_id, duty_room=duty_room
        )
        await message.reply(text, html=formatted)
        return
    target = await confirm.finish_close(
        turn.session,
        incident,
        actor=message.sender,
        office_roles=office,
        origin=message.room_id,
        duty_room=duty_room,
        clock=turn.clock,
    )
    if target != message.room_id:
        await message.reply(turn.t("em.incident.closed_reply", id=incident.code))


async def _escalate(message: Message, words: list[str], turn: Turn) -> None:
    session, clock, settings, roles, t = turn.session, turn.clock, turn.settings, turn.roles, turn.t
    viewer = await common.viewer_of(session, roles, message, clock)
    incident, rest = await common.resolve_incident(session, message, words, viewer)
    grade = parse_grade(rest[0]) if rest else None
    if grade is None:
        raise UserFacingError("em.incident.bad_grade", usage_of="incident", value=(rest[0] if rest else "")[:20])
    office = set(viewer.office_roles)
    before = incident.grade
    await incidents.change_grade(
        session,
        incident,
        grade=grade,
        actor=message.sender,
        office_roles=office,
        policy=common.policy_of(settings),
        clock=clock,
    )
    due = format_when(incident.next_report_due, tz=incident.tz, lang=incident.lang) if incident.next_report_due else "—"
    params: dict[str, object] = {"id": incident.code, "before": ROMAN[before], "after": ROMAN[grade], "due": due}
    await message.reply(t("em.incident.grade_changed", **params))
    room, made_by = await incidents.room_of(session, incident)  # not made yet: the post waits for it
    if room != message.room_id:
        text = tr("em.incident.grade_changed", incident.lang, **params)
        await outreach.post(session, room, text, room_ref=made_by)


async def _list(message: Message, _words: list[str], turn: Turn) -> None:
    session, clock, roles, t, lang, tz = turn.session, turn.clock, turn.roles, turn.t, turn.lang, turn.tz
    # Only the incidents the asker may see: for anyone else the list reads as if none were open.
    viewer = await common.viewer_of(session, roles, message, clock)
    found = access.visible_incidents(await incidents.open_incidents(session), viewer)
    if not found:
        await message.reply(t("em.incident.none_open"))
        return
    lines = [t("em.incident.list_head", count=len(found))]
    for item in found:
        lines.append(
            t(
                "em.incident.list_line",
                id=item.code,
                grade=ROMAN[item.grade],
                category=item.category or "—",
                title=item.title,
                at=format_when(item.declared_at, tz=tz, lang=lang, now=clock.now()),
            )
        )
    await message.reply("\n".join(lines))


async def _show(message: Message, words: list[str], turn: Turn) -> None:
    """`!incident show E5` (or `!incident E5`): the summary card, for those who may see the incident."""
    session, clock, roles = turn.session, turn.clock, turn.roles
    viewer = await common.viewer_of(session, roles, message, clock)
    incident, _ = await common.resolve_incident(session, message, words, viewer)
    body, _html = await incidents.card_content(session, incident, clock)
    await message.reply(body)


# One handler per sub-command of INCIDENT, by its canonical name (INCIDENT_SUBS).
SUBCOMMANDS: dict[str, Callable[[Message, list[str], Turn], Awaitable[None]]] = {
    "declare": _declare,
    "close": _close,
    "escalate": _escalate,
    "class": _set_class,
    "list": _list,
    "show": _show,
}


async def role(message: Message, command: CommandObject, turn: Turn) -> None:
    text = common.args_of(message, turn.settings, command)
    if turn.directory is not None:  # a role given to nobody would leave the incident without one
        text = await turn.directory.resolve_text(text)
    words = text.split()
    viewer = await common.viewer_of(turn.session, turn.roles, message, turn.clock)
    incident, rest = await common.resolve_incident(turn.session, message, words, viewer)
    if not rest:
        raise UserFacingError("em.role.unknown", usage_of="role", role="")
    users = common.people_in(" ".join(rest[1:]), turn.client.user_id if turn.client else None)
    office = set(viewer.office_roles)
    name = await incidents.set_role(
        turn.session,
        incident,
        role_word=rest[0],
        users=users,
        actor=message.sender,
        office_roles=office,
        clock=turn.clock,
    )
    announce = tr(
        "em.role.announced",
        incident.lang,
        id=incident.code,
        role=tr(f"em.role.{name}", incident.lang),
        users=cards.people_list(users, incident.lang),
    )
    # set_role has queued their invitation (and a commander's power) to the room.
    room, made_by = await incidents.room_of(turn.session, incident)  # not made yet: the post waits for it
    if room != message.room_id:
        await outreach.post(turn.session, room, announce, room_ref=made_by)
    # People by display name (pills), as in the incident room's announcement.
    users_text = cards.people_list(users, turn.lang)
    reply = turn.t("em.role.announced", id=incident.code, role=turn.t(f"em.role.{name}"), users=users_text)
    await common.reply_named(message, turn.session, reply)


async def show_timeline(message: Message, command: CommandObject, turn: Turn) -> None:
    session, clock, roles, t, lang, tz = turn.session, turn.clock, turn.roles, turn.t, turn.lang, turn.tz
    viewer = await common.viewer_of(session, roles, message, clock)
    incident, _ = await common.resolve_incident(session, message, command.argv, viewer)
    entries = await incidents.timeline(session, incident)
    lines = [t("em.timeline.head", id=incident.code, title=incident.title, count=len(entries))]
    for entry in entries[-60:]:
        at = format_when(entry.at, tz=tz, lang=lang, now=clock.now())
        lines.append(t("em.timeline.line", at=at, actor=cards.actor_shown(entry.actor, lang), text=entry.text))
    await common.reply_named(message, session, "\n".join(lines))


async def pin(reaction: ReactionEvent, turn: Turn) -> object:
    session, clock, client = turn.session, turn.clock, turn.client
    incident = await incidents.in_room(session, reaction.room_id)
    if incident is None or incident.status != "open":
        return UNHANDLED
    text = reaction.reacts_to
    sender = reaction.sender
    try:
        source = await client.get_event(reaction.room_id, reaction.reacts_to)
        text = str((source.get("content") or {}).get("body") or text)
        sender = str(source.get("sender") or sender)
    except MatrixError:
        log.info("could not fetch the pinned event %s", reaction.reacts_to, exc_info=True)
    entry = await incidents.pin_message(
        session,
        incident,
        actor=reaction.sender,
        text=tr("em.tl.pinned", incident.lang, sender=sender, text=text),
        event_id=reaction.reacts_to,
        clock=clock,
    )
    if entry is not None:
        relation = {"rel_type": "m.annotation", "event_id": reaction.reacts_to, "key": "🗂️"}
        await reaction.outbound.send(reaction.room_id, {"m.relates_to": relation}, event_type="m.reaction")
    return None


async def check_mark(reaction: ReactionEvent, turn: Turn) -> object:
    """✅ acknowledges a hand-over note, an order (its card or its DM) or an incident's alert DM;
    anything else passes on."""
    session, clock, roles, t = turn.session, turn.clock, turn.roles, turn.t
    ref = await outbox.ref_for_event(session, reaction.reacts_to)
    if ref is None:
        return UNHANDLED
    alert = incidents.alert_of_ref(ref)
    if alert is not None:
        return await _ack_alert(reaction, alert, session, clock, t)
    handover_id = int(ref.removeprefix("handover:H")) if ref.startswith("handover:H") else None
    order_id = orders.order_id_of_ref(ref)
    if handover_id is None and order_id is None:
        return UNHANDLED
    # The ✅ names its event by id only; a hand-over or an order the reactor may not see (one posted
    # in another room) is answered as a missing one.
    viewer = await access.viewer_of(session, roles, reaction.sender, room_id=reaction.room_id, clock=clock)
    if handover_id is not None:
        duty_staff = await common.is_duty_staff(session, roles, reaction.sender, clock)
        shown = await access.visible_handover(session, handover_id, viewer, duty_staff=duty_staff)
        item = await roster.ack_handover(session, shown.id, user=reaction.sender, clock=clock)
        await outreach.post(session, item.room_id, t("em.handover.acked", id=f"H{item.id}", user=reaction.sender))
        return None
    assert order_id is not None
    order = await access.visible_order(session, order_id, viewer)
    await orders.acknowledge(session, order, user=reaction.sender, clock=clock)
    return None


async def _ack_alert(
    reaction: ReactionEvent, alert: tuple[int, str], session: AsyncSession, clock: Clock, t: Translator
) -> object:
    """✅ on one's own alert DM. The DM is theirs alone: a ✅ by anyone else on it (someone else
    in that room) acknowledges nothing and passes on."""
    incident_id, user = alert
    if reaction.sender != user:
        return UNHANDLED
    incident = await incidents.get(session, incident_id)
    if await incidents.acknowledge_alert(session, incident, user=user, clock=clock):
        await reaction.outbound.send(
            reaction.room_id, outbox.text_content(t("em.incident.alert_acked", id=incident.code))
        )
    return None


def router() -> Router:
    made = Router("emergency.incident")
    made.message(INCIDENT)(incident_command)
    made.message(ROLE)(role)
    made.message(TIMELINE)(show_timeline)
    made.reaction(Reaction("📌"))(pin)
    made.reaction(Reaction("✅", "✔", "☑"))(check_mark)
    return made
