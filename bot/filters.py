"""Filters: small callables that decide whether a handler takes an event.

A filter returns False to pass the event on, True to accept it, or a dict to accept it and
hand extra values to the handler (e.g. `command`).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from bot.grammar import SubChoice, SubTable
from bot.types import Event, Message, ReactionEvent

FilterResult = bool | dict[str, Any]
FilterFunc = Callable[[Event, dict[str, Any]], FilterResult | Awaitable[FilterResult]]

PREFIXES = ("!", "！")


@dataclass(frozen=True)
class CommandObject:
    """A parsed command: `!approve A12 同意` → name "approve", args "A12 同意"."""

    prefix: str
    name: str  # canonical (English) name
    invoked: str  # as the user typed it, e.g. 审批
    args: str
    mentions: list[str] = field(default_factory=list)
    # For a command with sub-commands: the one given (canonical name, or None for none) and
    # the arguments after its word (bot.grammar.SubTable.choose).
    sub: str | None = None
    sub_args: str = ""

    @property
    def argv(self) -> list[str]:
        return self.args.split()


@dataclass(frozen=True)
class ParsedText:
    prefix: str
    word: str
    args: str
    addressed: bool  # the bot was mentioned by name


_WORD = re.compile(r"\S+")


def parse_command_text(
    body: str, *, bot_user_id: str = "", bot_names: Iterable[str] = (), prefixes: Iterable[str] = PREFIXES
) -> ParsedText | None:
    """Find a command in a message body, with or without a leading mention of the bot."""
    text = body.strip()
    addressed = False
    lowered = text.lower()
    for name in [bot_user_id, *bot_names]:
        if not name:
            continue
        for lead in (name.lower(), "@" + name.lower().lstrip("@")):
            if lowered.startswith(lead):
                rest = text[len(lead) :]
                if not rest or rest[0] in " :：,，":
                    text = rest.lstrip(" :：,，")
                    addressed = True
                    break
        if addressed:
            break
    for prefix in prefixes:
        if text.startswith(prefix):
            text = text[len(prefix) :]
            match = _WORD.match(text)
            if not match:
                return None
            return ParsedText(prefix, match.group(0), text[match.end() :].strip(), addressed)
    if addressed:
        match = _WORD.match(text)
        if match:
            return ParsedText(PREFIXES[0], match.group(0), text[match.end() :].strip(), True)
        # A bare mention of the bot: no command word, answered with a greeting.
        return ParsedText(PREFIXES[0], "", "", True)
    return None


def parsed_command(message: Message, data: dict[str, Any]) -> ParsedText | None:
    """Parse once per message and keep the result with the event's data."""
    if "_parsed" not in data:
        data["_parsed"] = parse_command_text(
            message.body,
            bot_user_id=data.get("bot_user_id", ""),
            bot_names=data.get("bot_names", ()),
            prefixes=data.get("prefixes", PREFIXES),
        )
    parsed: ParsedText | None = data["_parsed"]
    return parsed


@dataclass
class Command:
    """Matches `!name …` (or an alias, or the full-width ！, or `@bot name …`).

    The metadata (usage, example, group) feeds `!help` and the usage shown on mistakes.
    """

    name: str
    aliases: tuple[str, ...] = ()
    usage: dict[str, str] = field(default_factory=dict)
    summary: dict[str, str] = field(default_factory=dict)
    example: str = ""
    group: str = "general"
    hidden: bool = False
    # The sub-commands, declared once here; the framework decides which one a message names
    # and refuses a near miss (bot.grammar).
    subcommands: SubTable | None = None
    # Words of the feature's own that are never a sub-command attempt (e.g. template names),
    # read from the event's data (settings) when the message comes.
    own_words: Callable[[dict[str, Any]], Iterable[str]] | None = None

    def __post_init__(self) -> None:
        self._names = {self.name.lower(), *(a.lower() for a in self.aliases)}

    def matches_word(self, word: str) -> bool:
        return word.lower() in self._names

    def choose_sub(self, args: str, data: dict[str, Any]) -> SubChoice:
        """Which sub-command `args` name; a refusal when they look like a wrong one."""
        if self.subcommands is None:
            return SubChoice(None, args)
        known = self.own_words(data) if self.own_words is not None else ()
        return self.subcommands.choose(args, known)

    def __call__(self, event: Event, data: dict[str, Any]) -> FilterResult:
        if not isinstance(event, Message) or not is_typed(event):
            return False
        parsed = parsed_command(event, data)
        if parsed is None or not self.matches_word(parsed.word):
            return False
        choice = self.choose_sub(parsed.args, data)
        if choice.refused is not None:
            # Not taken: a typo must never become a title; the dispatcher answers it.
            return False
        command = CommandObject(
            parsed.prefix, self.name, parsed.word, parsed.args, event.mentions, choice.sub, choice.args
        )
        return {"command": command, "command_spec": self}


@dataclass
class Reaction:
    """Matches reactions with one of the given keys (✅, ❌ …); any key when none is given."""

    keys: tuple[str, ...] = ()

    def __init__(self, *keys: str) -> None:
        # Clients differ in whether they add the emoji variation selector.
        self.keys = tuple(k.replace("\ufe0f", "") for k in keys)

    def __call__(self, event: Event, data: dict[str, Any]) -> FilterResult:
        if not isinstance(event, ReactionEvent):
            return False
        return not self.keys or event.key.replace("\ufe0f", "") in self.keys


# The name the application gave a message it sent ("card:A12"), found by the message's event id
# from the event's data; bot/ keeps no record of what was sent, so the application passes it.
SentRef = Callable[[dict[str, Any], str], Awaitable[str | None]]
# One kind of card: the handler's values for a name of that kind ({"approval_id": 12}), None
# for a name of any other kind.
CardKind = Callable[[str], dict[str, Any] | None]


def OnCard(find: SentRef, kind: CardKind) -> FilterFunc:
    """A reaction on a message the bot sent as a card of `kind`; the card's values go to the handler."""

    async def _on_card(event: Event, data: dict[str, Any]) -> FilterResult:
        if not isinstance(event, ReactionEvent):
            return False
        ref = await find(data, event.reacts_to)
        values = None if ref is None else kind(ref)
        return False if values is None else values

    return _on_card


# What people type; a file (audio without the voice mark, an image, a document) is not text,
# whatever its body (the file name) says.
TYPED = ("m.text", "m.notice", "m.emote")


def is_typed(event: Event) -> TypeGuard[Message]:
    return isinstance(event, Message) and not event.is_voice and event.msgtype in TYPED


def Voice() -> FilterFunc:
    """A recorded voice note (marked per MSC3245 when it arrived), not any audio file."""

    def _voice(event: Event, data: dict[str, Any]) -> FilterResult:
        return isinstance(event, Message) and event.is_voice

    return _voice


def RoomKind(kind: str) -> FilterFunc:
    """'dm' or 'group'."""
    if kind not in ("dm", "group"):
        raise ValueError("kind must be 'dm' or 'group'")

    def _kind(event: Event, data: dict[str, Any]) -> FilterResult:
        return event.is_dm == (kind == "dm")

    return _kind


def Text(*, startswith: str | None = None, equals: Iterable[str] | None = None) -> FilterFunc:
    options = {e.strip() for e in equals} if equals is not None else None

    def _text(event: Event, data: dict[str, Any]) -> FilterResult:
        if not isinstance(event, Message) or not is_typed(event):
            return False
        body = event.body.strip()
        if options is not None and body not in options:
            return False
        return not (startswith is not None and not body.startswith(startswith))

    return _text


def PlainText() -> FilterFunc:
    """Typed text that is not a command: a wizard's answer, a sentence to read (commands keep
    working in the middle of a wizard; a voice message is not text until transcribed)."""

    def _plain(event: Event, data: dict[str, Any]) -> FilterResult:
        return is_typed(event) and parsed_command(event, data) is None

    return _plain


def IsReply() -> FilterFunc:
    def _reply(event: Event, data: dict[str, Any]) -> FilterResult:
        return isinstance(event, Message) and event.reply_to is not None

    return _reply


def Role(*roles: str) -> FilterFunc:
    """Passes when the sender has one of the roles; the application puts `roles` in the data."""
    wanted = set(roles)

    async def _role(event: Event, data: dict[str, Any]) -> FilterResult:
        resolver = data.get("resolve_roles")
        if resolver is None:
            return False
        have: set[str] = await resolver(event.sender, event.room_id)
        return bool(have & wanted)

    return _role
