"""Chat handlers of reminders: !remind, !alarm, !reminders, !cancel, and ❌/👍/✅ reactions."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot import Command, CommandObject, Message, Reaction, ReactionEvent, Router, UserFacingError
from bot.filters import FilterResult
from bot.grammar import Sub, SubTable
from bot.offloop import off_loop
from bot.types import Event
from commands.tasks import access, reminders
from commands.tasks.models import Reminder
from commands.tasks.policy import load_policy
from commands.visibility import viewer_roles
from records import outbox
from records.clock import Clock
from records.errors import DomainError
from timeparse import Recurrence, TimeParseError, format_when, parse_when, split_recurrence

router = Router("tasks.reminders")

REMIND = Command(
    "remind",
    aliases=("提醒",),
    usage={
        "zh": "!提醒 我|本群 <时间> <内容>\n!提醒 我 每<规则> <内容>（如 每天9点、每周一上午9点、cron 0 9 * * 1-5）",
        "en": "!remind me|room <when> <text>\n!remind me every <rule> <text> (every day 9:00, every monday, cron …)",
    },
    summary={"zh": "设置个人或群提醒，可重复", "en": "Set a personal or room reminder, optionally repeating"},
    example="!提醒 我 明天下午3点 交材料",
    group="tasks",
)
ALARM = Command(
    "alarm",
    aliases=("闹钟",),
    usage={"zh": "!闹钟 [我|本群] <时间> <内容>", "en": "!alarm [me|room] <when> <text>"},
    summary={
        "zh": "设置闹钟：到点后反复提醒，直到有人回应 ✅",
        "en": "Set an alarm that repeats until someone reacts ✅",
    },
    example="!alarm room in 10 minutes 开会",
    group="tasks",
)
REMINDERS = Command(
    "reminders",
    aliases=("提醒列表",),
    usage={
        "zh": "!提醒列表 [全部]（全部：含本群的群提醒）",
        "en": "!reminders [all] (all: with this room's reminders)",
    },
    summary={"zh": "查看您的提醒", "en": "List your reminders"},
    group="tasks",
    subcommands=SubTable((Sub("all", ("全部", "所有")),), ids=False),
)
CANCEL = Command(
    "cancel",
    aliases=("取消提醒",),
    usage={"zh": "!取消提醒 R12", "en": "!cancel R12"},
    summary={"zh": "取消一个提醒（也可在提醒消息上回应 ❌）", "en": "Cancel a reminder (or react ❌ on it)"},
    example="!cancel R12",
    group="tasks",
)

_ME = {"me", "myself", "我", "自己"}
_ROOM = {"room", "here", "everyone", "本群", "群", "大家", "群里"}
_ALL = REMINDERS.subcommands.words_of("all") if REMINDERS.subcommands else frozenset()
_REMINDER_ID = re.compile(r"^\s*[Rr]\d+\b")


def _cancel_is_ours(event: Event, data: dict[str, Any]) -> FilterResult:
    """`!cancel` is a common word: take it only for reminder ids (R12) or our own alias."""
    command: CommandObject | None = data.get("command")
    if command is None:
        return False
    return command.invoked == "取消提醒" or bool(_REMINDER_ID.match(command.args))


async def _on_reminder(event: Event, data: dict[str, Any]) -> FilterResult:
    """A reaction on a message a reminder sent (or on its confirmation)."""
    session = data.get("session")
    if not isinstance(event, ReactionEvent) or session is None:
        return False
    ref = await outbox.ref_for_event(session, event.reacts_to)
    reminder_id = reminders.id_from_ref(ref or "")
    return False if reminder_id is None else {"reminder_id": reminder_id}


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


async def _create(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    clock: Clock,
    t: Any,
    lang: str,
    tz: str,
    *,
    alarm: bool,
) -> None:
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
    now = clock.now()
    due, recurrence, text, holidays_unknown = await off_loop(_when_of, rest, now, tz)
    if not text:
        raise UserFacingError("reminder.no_text")
    reminder = await reminders.create_reminder(
        session,
        owner=message.sender,
        target=target,
        room_id=message.room_id,
        text=text,
        due_at=due,
        rule=recurrence.rule if recurrence else None,
        tz=tz,
        lang=lang,
        alarm=alarm,
        clock=clock,
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
        policy = await load_policy(session)
        reply += t("reminder.alarm_note", minutes=policy.alarm_repeat_minutes)
    if holidays_unknown is not None:
        reply += "\n" + t("time.no_holiday_data", year=holidays_unknown)
    reply += t("reminder.hint")
    await message.reply(reply, ref=reminders.ref_of(reminder.id))


@router.message(REMIND)
async def remind(
    message: Message, command: CommandObject, session: AsyncSession, clock: Clock, t: Any, lang: str, tz: str
) -> None:
    await _create(message, command, session, clock, t, lang, tz, alarm=False)


@router.message(ALARM)
async def alarm(
    message: Message, command: CommandObject, session: AsyncSession, clock: Clock, t: Any, lang: str, tz: str
) -> None:
    await _create(message, command, session, clock, t, lang, tz, alarm=True)


def _list_line(reminder: Reminder, user: str, t: Any, lang: str, tz: str, now: datetime) -> str:
    extra = ""
    if reminder.rule:
        extra += t("reminder.tag_repeat", rule=Recurrence.from_rule(reminder.rule, reminder.tz).describe(lang))
    if reminder.alarm:
        extra += t("reminder.tag_alarm")
    if reminder.target == "room":
        extra += t("reminder.tag_room")
    if reminder.owner != user:
        extra += t("reminder.tag_sub")
    when = format_when(reminder.due_at, tz=tz, lang=lang, now=now)
    return t("reminder.list_item", code=reminder.code, when=when, text=reminder.text, extra=extra)


@router.message(REMINDERS)
async def list_reminders(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    clock: Clock,
    t: Any,
    lang: str,
    tz: str,
    resolve_roles: Any = None,
) -> None:
    roles = await viewer_roles(resolve_roles, message.sender)
    if command.args.strip().lower() in _ALL:
        # Mine, and the room reminders of this room (an admin: of every room).
        candidates = await reminders.list_active(session)
    else:
        candidates = await reminders.list_reminders(session, message.sender)
    found = [
        r
        for r in candidates
        if await access.can_see_reminder(session, r, message.sender, roles, room_id=message.room_id)
    ]
    if not found:
        await message.reply(t("reminder.list_empty"))
        return
    now = clock.now()
    lines = [t("reminder.list_title"), *(_list_line(r, message.sender, t, lang, tz, now) for r in found)]
    await message.reply("\n".join(lines))


async def _admin_room(resolve_roles: Any, user: str, room_id: str) -> str | None:
    """The room, when `user` is an admin there (room power level 100 or the admin role)."""
    if resolve_roles is None:
        return None
    return room_id if {"admin", "room_admin"} & await resolve_roles(user, room_id) else None


async def _visible_reminder(
    session: AsyncSession, reminder_id: int, user: str, room_id: str, resolve_roles: Any
) -> Reminder:
    """The reminder a command names: someone the one rule (asked from this room) does not admit
    is told it does not exist, before "it is not yours" could confirm that it is there."""
    reminder = await reminders.get_reminder(session, reminder_id)
    roles = await viewer_roles(resolve_roles, user)
    if not await access.can_see_reminder(session, reminder, user, roles, room_id=room_id):
        raise access.reminder_not_found(reminder_id)
    return reminder


async def _cancel(
    session: AsyncSession, reminder_id: int, user: str, room_id: str, clock: Clock, resolve_roles: Any, t: Any
) -> str:
    reminder = await reminders.get_reminder(session, reminder_id)
    admin_of = None if reminder.owner == user else await _admin_room(resolve_roles, user, room_id)
    reminder = await reminders.cancel_reminder(session, reminder_id, user, clock, admin_of=admin_of)
    if reminder.owner != user:
        return str(t("reminder.cancelled_by_admin", code=reminder.code, user=user, owner=reminder.owner))
    return str(t("reminder.cancelled", code=reminder.code))


@router.message(CANCEL, _cancel_is_ours)
async def cancel(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    clock: Clock,
    t: Any,
    resolve_roles: Any = None,
) -> None:
    if not command.argv:
        raise UserFacingError("reminder.cancel_which")
    reminder_id = reminders.parse_code(command.argv[0])
    await _visible_reminder(session, reminder_id, message.sender, message.room_id, resolve_roles)
    await message.reply(await _cancel(session, reminder_id, message.sender, message.room_id, clock, resolve_roles, t))


# A reaction is on a message of the reminder that the reactor reads (its confirmation may be
# in a room), and names no id of its own: it is answered about that reminder.
@router.reaction(Reaction("❌"), _on_reminder)
async def cancel_by_reaction(
    reaction: ReactionEvent,
    reminder_id: int,
    session: AsyncSession,
    clock: Clock,
    t: Any,
    resolve_roles: Any = None,
) -> None:
    text = await _cancel(session, reminder_id, reaction.sender, reaction.room_id, clock, resolve_roles, t)
    await reaction.outbound.send(reaction.room_id, outbox.text_content(text))


@router.reaction(Reaction("👍"), _on_reminder)
async def subscribe_by_reaction(
    reaction: ReactionEvent, reminder_id: int, session: AsyncSession, clock: Clock, t: Any
) -> None:
    if await reminders.subscribe(session, reminder_id, reaction.sender, clock):
        await reaction.outbound.send(
            reaction.room_id,
            outbox.text_content(t("reminder.subscribed", code=f"R{reminder_id}", user=reaction.sender)),
        )


@router.reaction(Reaction("✅"), _on_reminder)
async def acknowledge_by_reaction(
    reaction: ReactionEvent, reminder_id: int, session: AsyncSession, clock: Clock, t: Any
) -> None:
    if await reminders.acknowledge(session, reminder_id, reaction.sender, clock):
        await reaction.outbound.send(
            reaction.room_id,
            outbox.text_content(t("reminder.acknowledged", code=f"R{reminder_id}", user=reaction.sender)),
        )
