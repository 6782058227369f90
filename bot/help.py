"""`!help`, generated from the commands the routers declare."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.dispatcher import Dispatcher, usage_text
from bot.filters import Command, CommandObject
from bot.router import Router
from bot.types import Message

HELP = Command(
    "help",
    aliases=("帮助", "h", "?", "？"),
    usage={"zh": "!帮助 [命令]", "en": "!help [command]"},
    summary={"zh": "列出命令，或查看某个命令的用法", "en": "List the commands, or show one command's usage"},
    example="!帮助 审批",
    group="general",
)


def render_help(dispatcher: Dispatcher, lang: str, t: Callable[..., str], prefix: str = "!") -> str:
    groups: dict[str, list[Command]] = {}
    for spec in dispatcher.commands():
        if not spec.hidden:
            groups.setdefault(spec.group, []).append(spec)
    lines = [t("help.title")]
    for group, specs in groups.items():
        title_key = f"group.{group}"
        lines.append("")
        lines.append("【" + (t(title_key) if title_key in dispatcher.catalog else group) + "】")
        for spec in specs:
            shown = spec.name if lang == "en" else next(iter(spec.aliases), spec.name)
            summary = spec.summary.get(lang) or spec.summary.get("zh", "")
            lines.append(f"  {prefix}{shown} — {summary}")
    lines.append("")
    lines.append(t("help.footer", prefix=prefix))
    return "\n".join(lines)


def render_command_help(spec: Command, lang: str, t: Callable[..., str]) -> str:
    summary = spec.summary.get(lang) or spec.summary.get("zh", "")
    names = ", ".join([spec.name, *spec.aliases])
    lines = [f"{summary}", f"{t('help.aliases')} {names}"]
    if spec.subcommands is not None:
        lines.append(t("help.subcommands", subs=spec.subcommands.listing(lang)))
    return "\n".join([*lines, usage_text(spec, lang, t)])


def help_router() -> Router:
    router = Router("help")

    @router.message(HELP)
    async def show_help(message: Message, command: CommandObject, dispatcher: Dispatcher, **data: Any) -> None:
        lang, t = data["lang"], data["t"]
        if command.args:
            wanted = command.args.split()[0].lstrip("!！")
            spec = dispatcher.find_command(wanted)
            if spec is None:
                await message.reply(t("help.unknown", name=wanted, prefix=command.prefix))
                return
            await message.reply(render_command_help(spec, lang, t))
            return
        await message.reply(render_help(dispatcher, lang, t, command.prefix))

    return router
