"""Chat handlers of the duty roster: !duty, !duty set, CSV upload, !handover and the duty log."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta

from bot import CommandObject, Media, Message, Refusal, Router, UserFacingError
from bot.client import BotClient
from bot.i18n import Translator
from bot.media import DownloadTooLarge
from bot.offloop import off_loop
from commands.turn import Turn
from emergency import access, cards, incidents, outreach, room_admin, roster
from emergency.commands import DUTY, HANDOVER, LOG
from emergency.grammar import GrammarError, parse_span, phones_after_people, split_people
from emergency.handlers import common
from emergency.models import Shift
from emergency.phones import noted
from records import people
from records.clock import Clock
from timeparse import TimeParseError, format_when, parse_when

# A roster file of roster.MAX_ROWS lines (a shift a line, ~100-200 bytes each) stays far below
# this; anything larger is not a roster, and it would be read into memory whole.
ROSTER_MAX_BYTES = 1024 * 1024


def _who(
    shift: Shift | None, t: Translator, tz: str, lang: str, clock: Clock, key: str, phones: Mapping[str, str]
) -> str:
    """A shift's time and people, each with the roster's phone number (whom to call)."""
    if shift is None:
        return t(f"{key}.none")
    return t(
        key,
        start=format_when(shift.starts_at, tz=tz, lang=lang, now=clock.now()),
        end=format_when(shift.ends_at, tz=tz, lang=lang, now=clock.now()),
        leader=_listed([shift.leader] if shift.leader else [], phones, lang),
        officers=_listed(list(shift.officers or []), phones, lang),
    )


def _listed(users: list[str], phones: Mapping[str, str], lang: str) -> str:
    """People joined as the language joins them, each with the roster's number; — for nobody."""
    return cards.people_list([noted(u, phones, lang) for u in users], lang) or "—"


async def duty(message: Message, command: CommandObject, turn: Turn) -> None:
    # The framework has read the first word from DUTY's sub-commands into `command.sub`;
    # `!值班` alone shows who is on duty.
    await SUBCOMMANDS.get(command.sub or "", _show)(message, command, turn)


async def _show(message: Message, command: CommandObject, turn: Turn) -> None:
    session, clock, roles, t, lang, tz = turn.session, turn.clock, turn.roles, turn.t, turn.lang, turn.tz
    current, upcoming = await roster.now_and_next(session, clock.now())
    phones = await people.phones(session, [u for s in (current, upcoming) if s for u in s.people])
    lines = [
        _who(current, t, tz, lang, clock, "em.duty.now", phones),
        _who(upcoming, t, tz, lang, clock, "em.duty.next", phones),
    ]
    if current is None:
        leaders, officers = roles.configured("duty_leader"), roles.configured("duty_officer")
        if leaders or officers:
            known = await people.phones(session, [*leaders, *officers])
            lines.append(
                t("em.duty.configured", leader=_listed(leaders, known, lang), officers=_listed(officers, known, lang))
            )
    # Who is on duty is office-wide (everyone must know whom to call); what the last shift handed
    # over is duty business, shown to the duty staff and to the hand-over's own writer and addressees.
    last = await roster.last_handover(session)
    viewer = await common.viewer_of(session, roles, message, clock)
    duty_staff = await common.is_duty_staff(session, roles, message.sender, clock)
    if last is not None and access.can_see_handover(last, viewer, duty_staff=duty_staff):
        state = t("em.handover.acked_by", user=last.acked_by) if last.acked_by else t("em.handover.pending")
        lines.append(t("em.duty.last_handover", id=f"H{last.id}", user=last.from_user, notes=last.notes, state=state))
    await common.reply_named(message, session, "\n".join(lines))


async def _set(message: Message, command: CommandObject, turn: Turn) -> None:
    if not await common.office_roles(turn.session, turn.roles, message.sender) & common.ROSTER_ROLES:
        raise Refusal("em.duty.not_allowed")
    text = common.args_of(message, turn.settings, command).split(None, 1)
    policy = common.policy_of(turn.settings)
    try:
        when_text, leader, officers = await off_loop(split_people, text[1] if len(text) > 1 else "")
        starts_at, ends_at = await off_loop(
            parse_span, when_text, now=turn.clock.now(), tz=policy.roster_tz, shift_start=policy.shift_start
        )
    except GrammarError as exc:
        raise UserFacingError(exc.key, usage_of="duty", **exc.params) from None
    except TimeParseError as exc:
        raise UserFacingError(exc.key, usage_of="duty", **exc.params) from None
    shift, replaced = await roster.set_shift(
        turn.session,
        starts_at=starts_at,
        ends_at=ends_at,
        leader=leader,
        officers=officers,
        actor=message.sender,
        clock=turn.clock,
    )
    given = await off_loop(phones_after_people, text[1] if len(text) > 1 else "")
    await roster.keep_phones(turn.session, given, actor=message.sender, clock=turn.clock)
    phones = await people.phones(turn.session, shift.people)
    reply = _who(shift, turn.t, turn.tz, turn.lang, turn.clock, "em.duty.set_done", phones)
    if replaced:
        reply += "\n" + turn.t("em.duty.replaced", count=replaced)
    await common.reply_named(message, turn.session, reply)


# One handler per sub-command of DUTY, by its canonical name (emergency.commands).
SUBCOMMANDS: dict[str, Callable[[Message, CommandObject, Turn], Awaitable[None]]] = {"set": _set}


def _is_csv_upload(message: Message, data: dict[str, object]) -> bool:
    return (
        message.msgtype == "m.file"
        and message.media is not None
        and message.body.strip().lower().endswith(".csv")
        and not message.is_dm
    )


def _too_large(size: int) -> UserFacingError:
    return UserFacingError(
        "em.csv.too_large", size_kb=f"{-(-size // 1024):,}", limit_kb=f"{ROSTER_MAX_BYTES // 1024:,}"
    )


async def _download_roster(client: BotClient, media: Media) -> bytes:
    """The roster file's bytes, refused past ROSTER_MAX_BYTES. The size in the event is whatever
    the sender wrote, so the download itself is capped too: a file of any size costs at most
    the cap in memory, and the handler's transaction is not held open while gigabytes arrive."""
    assert media.url
    if media.size is not None and media.size > ROSTER_MAX_BYTES:
        raise _too_large(media.size)
    try:
        raw: bytes = await client.download(media.url, max_bytes=ROSTER_MAX_BYTES)
    except DownloadTooLarge as exc:
        raise _too_large(exc.size) from None
    return raw


async def csv_upload(message: Message, turn: Turn) -> object:
    """A .csv file posted in the duty room (by a duty leader or admin) replaces those shifts."""
    if turn.settings.duty_room and message.room_id != await room_admin.duty_room_id(turn.settings, turn.client):
        from bot import UNHANDLED

        return UNHANDLED
    if not await common.office_roles(turn.session, turn.roles, message.sender) & common.ROSTER_ROLES:
        raise Refusal("em.duty.not_allowed")
    assert message.media is not None and message.media.url
    raw = await _download_roster(turn.client, message.media)
    parsed = await off_loop(
        roster.parse_roster_csv,
        raw.decode("utf-8-sig", errors="replace"),
        tz=common.policy_of(turn.settings).roster_tz,
        default_server=turn.settings.matrix.server_name,
    )
    if parsed.errors:
        lines = [turn.t("em.csv.errors_head", count=len(parsed.errors))]
        lines += [turn.t("em.csv.line", line=e.line, error=turn.t(e.key, **e.params)) for e in parsed.errors[:30]]
        await message.reply("\n".join(lines))
        return None
    count = await roster.import_roster(turn.session, parsed, actor=message.sender, clock=turn.clock)
    await message.reply(turn.t("em.csv.imported", count=count))
    return None


async def handover(message: Message, command: CommandObject, turn: Turn) -> None:
    session, clock, roles, t, lang = turn.session, turn.clock, turn.roles, turn.t, turn.lang
    if not await common.is_duty_staff(session, roles, message.sender, clock):
        raise Refusal("em.duty.staff_only")
    if not command.args.strip():
        raise UserFacingError("em.handover.empty", usage_of="handover")
    item = await roster.hand_over(
        session, actor=message.sender, notes=command.args, room_id=message.room_id, clock=clock
    )
    to = cards.people_list(item.to_users, turn.lang) or t("em.handover.next_unknown")
    posted = t("em.handover.posted", id=f"H{item.id}", notes=item.notes, to=to)
    await common.reply_named(message, session, posted, ref=f"handover:H{item.id}")
    for user in item.to_users:
        await outreach.dm(
            session, user, "em.handover.dm", default_lang=lang, id=f"H{item.id}", user=message.sender, notes=item.notes
        )


async def duty_log(message: Message, command: CommandObject, turn: Turn) -> None:
    duty_staff = await common.is_duty_staff(turn.session, turn.roles, message.sender, turn.clock)
    text = common.args_of(message, turn.settings, command)
    if not text:
        # Each line by the need-to-know rule: a line filed in an incident's room is that incident's.
        viewer = await common.viewer_of(turn.session, turn.roles, message, turn.clock)
        since = turn.clock.now() - timedelta(hours=24)
        entries = [
            e
            for e in await roster.log_since(turn.session, since)
            if await access.can_see_log_entry(turn.session, e, viewer, duty_staff=duty_staff)
        ]
        if not entries and not duty_staff:
            raise Refusal("em.duty.staff_only")
        if not entries:
            await message.reply(turn.t("em.log.none"))
            return
        lines = [turn.t("em.log.head", count=len(entries))]
        for e in entries:
            lines.append(
                turn.t(
                    "em.log.line",
                    id=f"L{e.id}",
                    at=format_when(e.received_at, tz=turn.tz, lang=turn.lang, now=turn.clock.now()),
                    source=e.source or "—",
                    reporter=e.reporter or "—",
                    contact=e.contact or "—",
                    content=e.content,
                    told=" ".join(e.told or []) or "—",
                    by=e.recorded_by,
                )
            )
        await message.reply("\n".join(lines))
        return
    if not duty_staff:
        raise Refusal("em.duty.staff_only")
    fields = await off_loop(roster.parse_log_text, text)
    received_at = None
    if fields.time_text:
        try:
            received_at = (
                await off_loop(parse_when, fields.time_text, now=turn.clock.now(), tz=turn.tz, prefer_future=False)
            ).at
        except TimeParseError as exc:
            raise UserFacingError(exc.key, usage_of="log", **exc.params) from None
    incident = await incidents.in_room(turn.session, message.room_id)
    entry = await roster.add_log(
        turn.session,
        fields,
        actor=message.sender,
        clock=turn.clock,
        received_at=received_at,
        incident_id=incident.id if incident else None,
    )
    if incident is not None:
        await incidents.add_timeline(
            turn.session,
            incident,
            "log",
            message.sender,
            turn.t("em.tl.log", id=f"L{entry.id}", content=entry.content),
            clock=turn.clock,
        )
    await message.reply(
        turn.t(
            "em.log.recorded",
            id=f"L{entry.id}",
            at=format_when(entry.received_at, tz=turn.tz, lang=turn.lang, now=turn.clock.now()),
            source=entry.source or "—",
            reporter=entry.reporter or "—",
            contact=entry.contact or "—",
            told=" ".join(entry.told) or "—",
        )
    )


def router() -> Router:
    made = Router("emergency.duty")
    made.message(DUTY)(duty)
    made.message(lambda event, data: isinstance(event, Message) and _is_csv_upload(event, data))(csv_upload)
    made.message(HANDOVER)(handover)
    made.message(LOG)(duty_log)
    return made
