"""Chat handlers of reminders: !remind, !alarm, !reminders, !cancel, and ❌/👍/✅ reactions."""

from __future__ import annotations

import re
from datetime import datetime

from bot import CommandObject, Message, ReactionEvent, UserFacingError
from bot.filters import FilterResult
from bot.offloop import off_loop
from bot.types import Event
from commands.cards import on_card
from commands.tasks import access, reminders
from commands.tasks.commands import REMINDERS_SUBS
from commands.tasks.models import Reminder
from commands.tasks.policy import load_policy
from commands.tasks.render import reminder_line
from commands.turn import Turn
from commands.visibility import viewer_roles
from records import outbox
from records.errors import DomainError
from timeparse import Recurrence, TimeParseError, format_when, parse_when, split_recurrence

_ME = {"me", "myself", "我", "自己"}
_ROOM = {"room", "here", "everyone", "本群", "群", "大家", "群里"}
_ALL = REMINDERS_SUBS.words_of("all")
_REMINDER_ID = re.compile(r"^\s*[Rr]\d+\b")


# Filters read the framework's `data` (values of every kind): a value is checked before use.
def cancel_is_ours(event: Event, data: dict[str, object]) -> FilterResult:
    """`!cancel` is a common word: take it only for reminder ids (R12) or our own alias."""
    command = data.get("command")
    if not isinstance(command, CommandObject):
        return False
    return command.invoked == "取消提醒" or bool(_REMINDER_ID.match(command.args))


def reminder_message(ref: str) -> dict[str, int] | None:
    """A message a reminder sent (or its confirmation): which reminder."""
    reminder_id = reminders.id_from_ref(ref)
    return None if reminder_id is None else {"reminder_id": reminder_id}


# A reaction on a message a reminder sent (or on its confirmation).
on_reminder = on_card(reminder_message)


def _split_target(args: str, default: str) -> tuple[str, str]:
    first, _, rest = args.strip().partition(" ")
    if first.lower() in _ME:
        return "me", rest.strip()
    if first.lower() in _ROOM:
        return "room", rest.strip()
    return default, args.strip()


_PILL_FIRST = re.compile(r'^\s*[!！]\S+\s*(?:(?:me|room|我|本群)\s*)?<a\s+href="https://matrix\.to/#/(@[^"?]+)', re.I)


def _someone_named(args: str, html: str | None) -> str | None:
    """The colleague a reminder was addressed to (`!remind @li 30m …`), if any.

    Reminders are for oneself or a room, never pushed onto a colleague: someone else's
    phone ringing on my say-so needs their consent, and asking a colleague to do something
    is what a task (督办) is for, with its assigner, deadline and acceptance. So a mention
    where the target goes is answered with that, not with "could not understand the time".
    """
    first = args.strip().split(maxsplit=1)[0] if args.strip() else ""
    if first.startswith(("@", "＠")):
        return first
    m = _PILL_FIRST.match(html or "")
    return m.group(1) if m else None


def _is_self(named: str, sender: str) -> bool:
    """ "@boss" or "@boss:localhost" written by @boss:localhost."""
    localpart = named.lstrip("@＠").split(":", 1)[0].lower()
    return named == sender or (":" not in named and localpart == sender[1:].split(":", 1)[0].lower())


def _when_of(text: str, now: datetime, tz: str) -> tuple[datetime, Recurrence | None, str, int | None]:
    """(first firing, repeat rule or None, the reminder's text, a year without holiday data)."""
    try:
        found = split_recurrence(text, now=now, tz=tz)
        if found is not None:
            recurrence, rest = found
            return recurrence.next_after(now), recurrence, rest, None
        when = parse_when(text, now=now, tz=tz)
        return when.at, None, when.rest, when.holidays_unknown
    except TimeParseError as exc:
        raise DomainError(exc.key, **exc.params) from None


async def _create(message: Message, command: CommandObject, turn: Turn, *, alarm: bool) -> None:
    someone = _someone_named(command.args, message.html)
    if someone is not None and not _is_self(someone, message.sender):
        raise UserFacingError("reminder.not_for_others", who=someone)
    if someone is not None:  # the sender named themselves: a reminder for "me"
        command_args = command.args.strip().split(maxsplit=1)
        args = f"me {command_args[1]}" if len(command_args) > 1 else "me"
    else:
        args = command.args
    # An alarm rings where it was set, so that anyone there can silence it with ✅.
    target, rest = _split_target(args, "room" if alarm else "me")
    if message.is_dm:
        # In a direct chat with the bot, "me" and "room" are the same place: this chat.
        target = "room"
    t, lang, tz = turn.t, turn.lang, turn.tz
    now = turn.clock.now()
    due, recurrence, text, holidays_unknown = await off_loop(_when_of, rest, now, tz)
    if not text:
        raise UserFacingError("reminder.no_text")
    reminder = await reminders.create_reminder(
        turn.session,
        owner=message.sender,
        target=target,
        room_id=message.room_id,
        text=text,
        due_at=due,
        rule=recurrence.rule if recurrence else None,
        tz=tz,
        lang=lang,
        alarm=alarm,
        clock=turn.clock,
    )
    when = format_when(due, tz=tz, lang=lang, now=now)
    where = t("reminder.where_room") if target == "room" and not message.is_dm else t("reminder.where_me")
    # An alarm is confirmed as an alarm (闹钟): it behaves differently, ringing until ✅.
    if recurrence is not None:
        reply = t(
            "reminder.created_alarm_repeat" if alarm else "reminder.created_repeat",
            code=reminder.code,
            text=text,
            rule=recurrence.describe(lang),
            when=when,
            where=where,
        )
    else:
        reply = t(
            "reminder.created_alarm" if alarm else "reminder.created",
            code=reminder.code,
            text=text,
            when=when,
            where=where,
        )
    if alarm:
        policy = await load_policy(turn.session)
        reply += t("reminder.alarm_note", minutes=policy.alarm_repeat_minutes)
    if holidays_unknown is not None:
        reply += "\n" + t("time.no_holiday_data", year=holidays_unknown)
    reply += t("reminder.hint")
    await message.reply(reply, ref=reminders.ref_of(reminder.id))


async def remind(message: Message, command: CommandObject, turn: Turn) -> None:
    await _create(message, command, turn, alarm=False)


async def alarm(message: Message, command: CommandObject, turn: Turn) -> None:
    await _create(message, command, turn, alarm=True)


async def list_reminders(message: Message, command: CommandObject, turn: Turn) -> None:
    roles = await viewer_roles(turn.resolve_roles, message.sender)
    if command.args.strip().lower() in _ALL:
        # Mine, and the room reminders of this room (an admin: of every room).
        candidates = await reminders.list_active(turn.session)
    else:
        candidates = await reminders.list_reminders(turn.session, message.sender)
    found = [
        r
        for r in candidates
        if await access.can_see_reminder(turn.session, r, message.sender, roles, room_id=message.room_id)
    ]
    if not found:
        await message.reply(turn.t("reminder.list_empty"))
        return
    now = turn.clock.now()
    lines = [
        turn.t("reminder.list_title"),
        *(reminder_line(r, message.sender, turn.t, turn.lang, turn.tz, now) for r in found),
    ]
    await message.reply("\n".join(lines))


async def _admin_room(turn: Turn, user: str, room_id: str) -> str | None:
    """The room, when `user` is an admin there (room power level 100 or the admin role)."""
    return room_id if {"admin", "room_admin"} & await turn.resolve_roles(user, room_id) else None


async def _visible_reminder(turn: Turn, reminder_id: int, user: str, room_id: str) -> Reminder:
    """The reminder a command names: someone the one rule (asked from this room) does not admit
    is told it does not exist, before "it is not yours" could confirm that it is there."""
    reminder = await reminders.get_reminder(turn.session, reminder_id)
    roles = await viewer_roles(turn.resolve_roles, user)
    if not await access.can_see_reminder(turn.session, reminder, user, roles, room_id=room_id):
        raise access.reminder_not_found(reminder_id)
    return reminder


async def _cancel(turn: Turn, reminder_id: int, user: str, room_id: str) -> str:
    reminder = await reminders.get_reminder(turn.session, reminder_id)
    admin_of = None if reminder.owner == user else await _admin_room(turn, user, room_id)
    reminder = await reminders.cancel_reminder(turn.session, reminder_id, user, turn.clock, admin_of=admin_of)
    if reminder.owner != user:
        return turn.t("reminder.cancelled_by_admin", code=reminder.code, user=user, owner=reminder.owner)
    return turn.t("reminder.cancelled", code=reminder.code)


async def cancel(message: Message, command: CommandObject, turn: Turn) -> None:
    if not command.argv:
        raise UserFacingError("reminder.cancel_which")
    reminder_id = reminders.parse_code(command.argv[0])
    await _visible_reminder(turn, reminder_id, message.sender, message.room_id)
    await message.reply(await _cancel(turn, reminder_id, message.sender, message.room_id))


# A reaction is on a message of the reminder that the reactor reads (its confirmation may be
# in a room), and names no id of its own: it is answered about that reminder.
async def cancel_by_reaction(reaction: ReactionEvent, reminder_id: int, turn: Turn) -> None:
    text = await _cancel(turn, reminder_id, reaction.sender, reaction.room_id)
    await reaction.outbound.send(reaction.room_id, outbox.text_content(text))


async def subscribe_by_reaction(reaction: ReactionEvent, reminder_id: int, turn: Turn) -> None:
    if await reminders.subscribe(turn.session, reminder_id, reaction.sender, turn.clock):
        text = turn.t("reminder.subscribed", code=f"R{reminder_id}", user=reaction.sender)
        await reaction.outbound.send(reaction.room_id, outbox.text_content(text))


async def acknowledge_by_reaction(reaction: ReactionEvent, reminder_id: int, turn: Turn) -> None:
    if await reminders.acknowledge(turn.session, reminder_id, reaction.sender, turn.clock):
        text = turn.t("reminder.acknowledged", code=f"R{reminder_id}", user=reaction.sender)
        await reaction.outbound.send(reaction.room_id, outbox.text_content(text))
