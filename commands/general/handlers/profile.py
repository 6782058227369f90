"""Chat handlers of the general commands: ping, language, time zone, who am I, hello."""

from __future__ import annotations

from bot import CommandObject, MemberEvent, Message, UserFacingError
from bot.i18n import Translator, normalize_lang
from commands.general.render import lang_name, now_in, role_names
from commands.turn import Turn
from records import audit, people
from timeparse import TimeParseError, get_zone


async def ping(message: Message, t: Translator) -> None:
    # Only the translator: the framework alone (no database) answers a ping, as the benchmark does.
    await message.reply(t("ping.pong"))


async def set_lang(message: Message, command: CommandObject, turn: Turn) -> None:
    if not command.args:
        await message.reply(turn.t("lang.current"))
        return
    lang = normalize_lang(command.args)
    if lang is None:
        raise UserFacingError("lang.unknown", value=command.args[:40])
    person = await people.ensure_person(turn.session, message.sender)
    old = person.lang
    person.lang = lang
    await audit.record(
        turn.session, actor=message.sender, action="person.lang", subject=message.sender, data={"from": old, "to": lang}
    )
    await message.reply(turn.t_in(lang)("lang.set"))


async def set_tz(message: Message, command: CommandObject, turn: Turn) -> None:
    if not command.args:
        await message.reply(turn.t("tz.current", tz=turn.tz, now=now_in(turn.tz, turn.lang)))
        return
    value = command.args.split()[0]
    try:
        # get_zone checks the name's shape before the file system sees it: "Asia" is a
        # directory of zones (IsADirectoryError), 300 characters too long a file name.
        get_zone(value)
    except TimeParseError:
        raise UserFacingError("tz.unknown", value=value[:64]) from None
    person = await people.ensure_person(turn.session, message.sender)
    old = person.tz
    person.tz = value
    await audit.record(
        turn.session, actor=message.sender, action="person.tz", subject=message.sender, data={"from": old, "to": value}
    )
    await message.reply(turn.t("tz.set", tz=value, now=now_in(value, turn.lang)))


async def whoami(message: Message, turn: Turn) -> None:
    have = await turn.resolve_roles(message.sender)
    roles, lang = role_names(have, turn.t), lang_name(turn.lang, turn.t)
    text = turn.t("whoami.text", user=message.sender, roles=roles, lang=lang, tz=turn.tz)
    await message.reply(text)


async def joined(event: MemberEvent, turn: Turn) -> None:
    """Say hello in a group room the bot has just joined (not in DMs: they start with the user)."""
    if event.state_key == turn.client.user_id and event.membership == "join" and event.prev_membership == "invite":
        if not event.is_dm:
            await event.outbound.send(event.room_id, {"msgtype": "m.text", "body": turn.t("welcome.joined")})
