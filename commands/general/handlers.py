"""Chat handlers of the general commands."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot import Command, CommandObject, MemberEvent, Message, Router, UserFacingError
from bot.i18n import normalize_lang
from commands.timeparse import TimeParseError, get_zone
from records import audit, people

router = Router("general")

PING = Command(
    "ping",
    aliases=("在吗",),
    usage={"zh": "!在吗", "en": "!ping"},
    summary={"zh": "检查助手是否在线", "en": "Check that Zhiban is online"},
)
LANG = Command(
    "lang",
    aliases=("语言",),
    usage={"zh": "!语言 [zh|en]", "en": "!lang [zh|en]"},
    summary={"zh": "查看或切换回复语言", "en": "Show or change the language of replies"},
    example="!lang en",
)
TZ = Command(
    "tz",
    aliases=("时区",),
    usage={"zh": "!时区 [地区/城市]", "en": "!tz [Region/City]"},
    summary={"zh": "查看或设置您的时区（默认 Asia/Shanghai）", "en": "Show or set your time zone"},
    example="!tz Asia/Shanghai",
)
WHOAMI = Command(
    "whoami",
    aliases=("我是谁",),
    usage={"zh": "!我是谁", "en": "!whoami"},
    summary={"zh": "查看您的角色和设置", "en": "Show your roles and settings"},
)


@router.message(PING)
async def ping(message: Message, t: Any) -> None:
    await message.reply(t("ping.pong"))


@router.message(LANG)
async def set_lang(message: Message, command: CommandObject, session: AsyncSession, t: Any, catalog: Any) -> None:
    if not command.args:
        await message.reply(t("lang.current"))
        return
    lang = normalize_lang(command.args)
    if lang is None:
        raise UserFacingError("lang.unknown", value=command.args[:40])
    person = await people.ensure_person(session, message.sender)
    old = person.lang
    person.lang = lang
    await audit.record(
        session, actor=message.sender, action="person.lang", subject=message.sender, data={"from": old, "to": lang}
    )
    await message.reply(catalog.t("lang.set", lang))


def _now_in(tz: str) -> str:
    return datetime.now(UTC).astimezone(get_zone(tz)).strftime("%Y-%m-%d %H:%M")


@router.message(TZ)
async def set_tz(message: Message, command: CommandObject, session: AsyncSession, t: Any, tz: str) -> None:
    if not command.args:
        await message.reply(t("tz.current", tz=tz, now=_now_in(tz)))
        return
    value = command.args.split()[0]
    try:
        # get_zone checks the name's shape before the file system sees it: "Asia" is a
        # directory of zones (IsADirectoryError), 300 characters too long a file name.
        get_zone(value)
    except TimeParseError:
        raise UserFacingError("tz.unknown", value=value[:64]) from None
    person = await people.ensure_person(session, message.sender)
    old = person.tz
    person.tz = value
    await audit.record(
        session, actor=message.sender, action="person.tz", subject=message.sender, data={"from": old, "to": value}
    )
    await message.reply(t("tz.set", tz=value, now=_now_in(value)))


@router.message(WHOAMI)
async def whoami(message: Message, t: Any, lang: str, tz: str, resolve_roles: Any) -> None:
    have = await resolve_roles(message.sender)
    await message.reply(t("whoami.text", user=message.sender, roles=", ".join(sorted(have)), lang=lang, tz=tz))


@router.member()
async def joined(event: MemberEvent, client: Any, t: Any) -> None:
    """Say hello in a group room the bot has just joined (not in DMs: they start with the user)."""
    if event.state_key == client.user_id and event.membership == "join" and event.prev_membership == "invite":
        if not event.is_dm:
            await event.outbound.send(event.room_id, {"msgtype": "m.text", "body": t("welcome.joined")})
