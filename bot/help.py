"""`!help`, generated from the commands the routers declare: the groups first, then a group's
commands (`!help <group>`) or every command of a name (`!help <command>`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.dispatcher import Dispatcher, usage_text
from bot.filters import Command, CommandObject
from bot.router import Router
from bot.types import Message

HELP = Command(
    "help",
    aliases=("帮助", "h", "?", "？"),
    usage={"zh": "!帮助 [组名|命令]", "en": "!help [group|command]"},
    summary={
        "zh": "列出各组命令，或查看一组命令、某个命令的用法",
        "en": "List the groups of commands, or show a group or one command's usage",
    },
    example="!帮助 审批",
    group="daily",
)


# Command.group's default: a command that names no group of its own.
DEFAULT_GROUP = "general"


@dataclass(frozen=True)
class HelpGroups:
    """How `!help` groups the commands: the groups' order, and the group of the commands of a
    router (by its name) that name none themselves. The application decides both (the
    dispatcher's context `help_groups`); without it, groups follow the routers' order."""

    order: tuple[str, ...] = ()
    by_router: Mapping[str, str] = field(default_factory=dict)


def grouped(dispatcher: Dispatcher, groups: HelpGroups) -> dict[str, list[Command]]:
    """The visible commands by group, the groups in `groups.order` (others after them)."""
    found: dict[str, list[Command]] = {}

    def walk(router: Router, inherited: str | None) -> None:
        own = groups.by_router.get(router.name, inherited)
        for handler in router.message.handlers:
            for spec in handler.commands:
                if not spec.hidden:
                    group = own if spec.group == DEFAULT_GROUP and own is not None else spec.group
                    found.setdefault(group, []).append(spec)
        for sub in router.sub_routers:
            walk(sub, own)

    walk(dispatcher, None)
    rank = {group: i for i, group in enumerate(groups.order)}
    return dict(sorted(found.items(), key=lambda item: rank.get(item[0], len(rank))))


def group_title(dispatcher: Dispatcher, group: str, lang: str) -> str:
    """The group's short name (`help.group.<id>`), else its feature's title, else its id."""
    for key in (f"help.group.{group}", f"group.{group}"):
        if key in dispatcher.catalog:
            return dispatcher.catalog.t(key, lang)
    return group


def find_group(dispatcher: Dispatcher, word: str, groups: dict[str, list[Command]]) -> str | None:
    """The group `word` names, in either language (日常, Settings, settings…)."""
    wanted = word.strip().lower()
    for group in groups:
        names = {group.lower(), *(group_title(dispatcher, group, lang).lower() for lang in ("zh", "en"))}
        if wanted in names:
            return group
    return None


def shown_name(spec: Command, lang: str, prefix: str) -> str:
    return prefix + (spec.name if lang == "en" else next(iter(spec.aliases), spec.name))


def render_help(
    dispatcher: Dispatcher, lang: str, t: Callable[..., str], prefix: str = "!", groups: HelpGroups | None = None
) -> str:
    """The index: one line per group with its commands' names; details on `!help <group>`."""
    lines = [t("help.title")]
    for group, specs in grouped(dispatcher, groups or HelpGroups()).items():
        names = " ".join(shown_name(spec, lang, prefix) for spec in specs)
        lines.append(f"【{group_title(dispatcher, group, lang)}】{names}")
    lines.append("")
    lines.append(t("help.footer", prefix=prefix))
    return "\n".join(lines)


def render_group_help(dispatcher: Dispatcher, group: str, specs: list[Command], lang: str, prefix: str) -> str:
    """One group: each command with what it does."""
    lines = [f"【{group_title(dispatcher, group, lang)}】"]
    for spec in specs:
        summary = spec.summary.get(lang) or spec.summary.get("zh", "")
        lines.append(f"  {shown_name(spec, lang, prefix)} — {summary}")
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
        groups: HelpGroups = data.get("help_groups") or HelpGroups()
        if not command.args:
            await message.reply(render_help(dispatcher, lang, t, command.prefix, groups))
            return
        typed = command.args.split()[0]
        wanted = typed.lstrip("!！")
        by_group = grouped(dispatcher, groups)
        # `!help !done` asks for the command alone; `!help 设置` for a group.
        group = None if typed != wanted else find_group(dispatcher, wanted, by_group)
        # Every command of that name or alias: `done` is a task's and an order's word.
        specs = [spec for specs in by_group.values() for spec in specs if spec.matches_word(wanted)]
        if group is None and not specs:
            await message.reply(t("help.unknown", name=wanted, prefix=command.prefix))
            return
        parts = []
        if len(specs) > 1:
            parts.append(t("help.many", name=wanted, count=len(specs)))
        for spec in specs:
            title = group_title(dispatcher, _group_of(spec, by_group), lang)
            parts.append(f"【{title}】{shown_name(spec, lang, command.prefix)}\n" + render_command_help(spec, lang, t))
        if group is not None:
            parts.append(render_group_help(dispatcher, group, by_group[group], lang, command.prefix))
            parts.append(t("help.group_footer", prefix=command.prefix))
        await message.reply("\n\n".join(parts))

    return router


def _group_of(spec: Command, by_group: dict[str, list[Command]]) -> str:
    return next((group for group, specs in by_group.items() if spec in specs), spec.group)
