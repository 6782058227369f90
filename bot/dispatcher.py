"""The dispatcher: the root router, its outer middlewares, and ordered concurrent handling.

Each event runs in its own task, so a slow handler never stalls the sync loop; events of the
same user in the same room run one after another, in the order they arrived.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

from bot.errors import UserFacingError
from bot.filters import PREFIXES, Command, ParsedText, parsed_command
from bot.fsm import BaseStorage, FSMContext, MemoryStorage, StorageKey
from bot.grammar import TEXTS as GRAMMAR_TEXTS
from bot.grammar import closest_word, ranked
from bot.i18n import Catalog, translator
from bot.router import UNHANDLED, Middleware, NextHandler, Router, _wrap, generation
from bot.texts import TEXTS
from bot.types import Event, MemberEvent, Message, ReactionEvent, ReceiptEvent, RedactionEvent

log = logging.getLogger(__name__)
# A word that reads as a Chinese command name: command names are two to six characters.
_CJK_WORD = re.compile(r"^[\u4e00-\u9fff]{1,6}$")

# Adds values to an event's data once its state is known (Dispatcher.turn_builder).
TurnBuilder = Callable[[Event, dict[str, Any]], None]

OBSERVER_OF: dict[type, str] = {
    Message: "message",
    ReactionEvent: "reaction",
    MemberEvent: "member",
    RedactionEvent: "redaction",
    ReceiptEvent: "receipt",
}


class _CommandIndex:
    """The command table as the routers hold it, with what finding a name needs, built once."""

    def __init__(self, commands: list[Command]) -> None:
        self.commands = commands
        self.by_name: dict[str, Command] = {}
        for spec in commands:
            for name in (spec.name, *spec.aliases):
                self.by_name.setdefault(name.lower(), spec)
        # Every name as declared, for "did you mean" (first declaration wins, as before).
        self.names: list[str] = list(dict.fromkeys(n for spec in commands for n in (spec.name, *spec.aliases)))
        self.shown: dict[str, list[str]] = {}
        # Unknown words already matched: a typo is typed again and again (!pnig).
        self.closest: OrderedDict[str, str | None] = OrderedDict()


class Dispatcher(Router):
    def __init__(
        self,
        *,
        storage: BaseStorage | None = None,
        catalog: Catalog | None = None,
        prefixes: tuple[str, ...] = PREFIXES,
        max_message_chars: int = 8000,
        report_errors: bool = True,
        **context: Any,
    ) -> None:
        super().__init__("dispatcher")
        self.storage: BaseStorage = storage or MemoryStorage()
        self.catalog = catalog or Catalog()
        self.catalog.add(TEXTS)
        self.catalog.add(GRAMMAR_TEXTS)
        self.prefixes = prefixes
        self.max_message_chars = max_message_chars
        # Off when an outer middleware answers failures itself (after rolling back its work).
        self.report_errors = report_errors
        # Values every handler may ask for by name (services, settings, the database…).
        self.context: dict[str, Any] = dict(context)
        self.outer_middlewares: list[Middleware] = []
        self.turn_builders: list[TurnBuilder] = []
        self._queues: dict[tuple[str, str], asyncio.Queue[tuple[Event, dict[str, Any], asyncio.Future[Any]]]] = {}
        self._workers: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._recent: OrderedDict[str, None] = OrderedDict()
        self._index: tuple[int, _CommandIndex] | None = None

    def outer_middleware(self, middleware: Middleware) -> Middleware:
        """Runs for every event before any filter, outermost first."""
        self.outer_middlewares.append(middleware)
        return middleware

    def turn_builder(self, builder: TurnBuilder) -> TurnBuilder:
        """Runs for every event once its lock is held and its state known, before any filter.

        An application adds here the values its handlers ask for that need the turn's state
        (a typed turn object, say); outer middlewares run before the state exists.
        """
        self.turn_builders.append(builder)
        return builder

    # -- running one event -------------------------------------------------------------
    async def feed(self, event: Event, data: dict[str, Any] | None = None) -> Any:
        """Run one event through the middlewares and routers, now, in this task."""
        observer = OBSERVER_OF.get(type(event))
        if observer is None:
            return UNHANDLED
        base = {
            **self.context,
            "dispatcher": self,
            "catalog": self.catalog,
            "prefixes": self.prefixes,
            "lang": self.catalog.default_lang,
            **(data or {}),
        }
        run = _wrap(self._route(observer), self.outer_middlewares)
        if not self.report_errors:
            return await run(event, base)
        try:
            return await run(event, base)
        except Exception as exc:
            await self.report_error(event, base, exc)
            return None

    def _route(self, observer: str) -> NextHandler:
        async def route(event: Event, data: dict[str, Any]) -> Any:
            data["t"] = translator(self.catalog, data.get("lang"))
            async with AsyncExitStack() as stack:
                thread = event.thread_root if isinstance(event, Message) else None
                key = StorageKey.for_event(event, thread_id=thread)
                # The lock is taken before the state is read, so two events of one user
                # cannot both act on the same step of a flow.
                await stack.enter_async_context(self.storage.lock(key))
                data["state"] = FSMContext(self.storage, key)
                for build in self.turn_builders:
                    build(event, data)
                if isinstance(event, Message):
                    # Parsed here, once: every handler's filters read this one result.
                    parsed_command(event, data)
                if isinstance(event, Message) and not event.is_voice:
                    too_long = self._refuse_oversized(event, data)
                    if too_long is not None:
                        return await too_long
                result = await self.propagate(observer, event, data)
                if result is UNHANDLED and isinstance(event, Message):
                    await self._unknown_command(event, data)
                return result

        return route

    def _refuse_oversized(self, message: Message, data: dict[str, Any]) -> Awaitable[Any] | None:
        size = len(message.body)
        if size <= self.max_message_chars or parsed_command(message, data) is None:
            return None
        return message.reply(data["t"]("error.too_long", size=size, limit=self.max_message_chars))

    async def _unknown_command(self, message: Message, data: dict[str, Any]) -> None:
        """Answer a command no handler took: ours with wrong arguments, a near miss, or unknown."""
        parsed = parsed_command(message, data)
        if parsed is None:
            return
        t = data["t"]
        if not parsed.word:
            await message.reply(t("greeting"))
            return
        spec = self.find_command(parsed.word)
        if spec is not None:
            await message.reply(self._wrong_arguments(spec, parsed, data))
            return
        close = self._closest(parsed.word)
        text = t("error.unknown_command", prefix=parsed.prefix, name=parsed.word)
        if close is not None:
            await message.reply(text + "\n" + t("error.did_you_mean", prefix=parsed.prefix, name=close))
        elif message.is_dm or parsed.addressed:
            shown = [f"{parsed.prefix}{name}" for name in ranked(parsed.word, self._shown_names(data["lang"]))]
            await message.reply(text + ("\n" + t("error.closest_commands", names=" · ".join(shown)) if shown else ""))
        elif _CJK_WORD.match(parsed.word):
            # A Chinese command word in a shared room is ours (the other bots people run here
            # answer to English words): unknown, with where to look. A longer run after a "！"
            # is a sentence ("！好的收到，马上办"), not a command.
            await message.reply(text)
        # else: in a shared room, `!word` is meant for another bot; leave it alone.

    def _wrong_arguments(self, spec: Command, parsed: ParsedText, data: dict[str, Any]) -> str:
        """A command of ours no handler took: a wrong sub-command, or its arguments do not fit."""
        t, lang = data["t"], data["lang"]
        # Sub-command words in the reply's language (every word works with either spelling of
        # the command): a Chinese reply names 发起/查看…, an English one new/show…
        choice = spec.choose_sub(parsed.args, data)
        if spec.subcommands is not None and choice.refused is not None:
            text = t(
                "error.unknown_sub",
                prefix=parsed.prefix,
                command=parsed.word,
                word=choice.refused,
                subs=spec.subcommands.listing(lang),
            )
            if choice.close is not None:
                sub = choice.close.shown(lang)
                text += "\n" + t("error.did_you_mean_sub", prefix=parsed.prefix, command=parsed.word, sub=sub)
            return text
        return t("error.bad_arguments", prefix=parsed.prefix, name=parsed.word) + "\n" + usage_text(spec, lang, t)

    def _shown_names(self, lang: str) -> list[str]:
        """The names people see in !help: Chinese aliases in zh, English names in en."""
        index = self._command_index()
        if lang not in index.shown:
            found: list[str] = []
            for spec in index.commands:
                if not spec.hidden:
                    found.extend([spec.name] if lang == "en" else [*spec.aliases, spec.name])
            index.shown[lang] = found
        return index.shown[lang]

    def _closest(self, word: str) -> str | None:
        index = self._command_index()
        if word in index.closest:
            return index.closest[word]
        close = closest_word(word, index.names)
        index.closest[word] = close
        if len(index.closest) > 1000:
            index.closest.popitem(last=False)
        return close

    def _command_index(self) -> _CommandIndex:
        """The command table, built again only after a handler or router was added."""
        now = generation()
        if self._index is None or self._index[0] != now:
            self._index = (now, _CommandIndex(super().commands()))
        return self._index[1]

    def commands(self) -> list[Command]:
        return list(self._command_index().commands)

    async def report_error(self, event: Event, data: dict[str, Any], exc: BaseException) -> None:
        """Answer a failed event: wrong words with usage, a refusal with its reason alone,
        anything else with an apology."""
        handled = await self.error.trigger(event, {**data, "exception": exc})
        if handled is not UNHANDLED:
            return
        t = data.get("t") or (lambda key, **p: self.catalog.t(key, data.get("lang"), **p))
        if isinstance(exc, UserFacingError):
            text = t("error.prefix", message=t(exc.key, **exc.params))
            spec = self.find_command(exc.usage_of) if exc.usage_of else data.get("command_spec")
            if spec is not None and exc.shows_usage:
                text += "\n" + usage_text(spec, data.get("lang") or self.catalog.default_lang, t)
        else:
            log.error("handler failed for %s", event.event_id, exc_info=exc)
            text = t("error.internal")
        if isinstance(event, Message):
            await event.reply(text)
        elif isinstance(event, ReactionEvent):
            from bot.types import text_content

            await event.outbound.send(event.room_id, text_content(text))

    def find_command(self, name: str | None) -> Command | None:
        if not name:
            return None
        return self._command_index().by_name.get(name.lower())

    # -- running many events, in order per room and user ---------------------------------
    def submit(self, event: Event, data: dict[str, Any] | None = None) -> asyncio.Future[Any]:
        """Queue an event; returns a future that completes when it has been handled."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[Any] = loop.create_future()
        if self._seen(event.event_id):
            done.set_result(UNHANDLED)
            return done
        key = (event.room_id, event.sender)
        queue = self._queues.setdefault(key, asyncio.Queue())
        queue.put_nowait((event, data or {}, done))
        if key not in self._workers or self._workers[key].done():
            self._workers[key] = loop.create_task(self._drain(key, queue))
        return done

    def _seen(self, event_id: str) -> bool:
        # A cheap in-memory guard against the same event arriving twice in one run; the
        # database ledger is what guarantees once-only across restarts.
        if event_id in self._recent:
            return True
        self._recent[event_id] = None
        if len(self._recent) > 10_000:
            self._recent.popitem(last=False)
        return False

    async def _drain(self, key: tuple[str, str], queue: asyncio.Queue[Any]) -> None:
        while not queue.empty():
            event, data, done = queue.get_nowait()
            try:
                result = await self.feed(event, data)
                if not done.done():
                    done.set_result(result)
            except Exception as exc:  # the sync loop must never see a handler's failure
                log.exception("event %s failed outside the error handling", event.event_id)
                if not done.done():
                    done.set_exception(exc)
        self._queues.pop(key, None)
        if self._workers.get(key) is asyncio.current_task():
            del self._workers[key]

    async def wait_idle(self) -> None:
        """Wait until every queued event has been handled (used on shutdown and in tests)."""
        while self._workers:
            workers = [w for w in self._workers.values() if not w.done()]
            if not workers:
                self._workers.clear()
                return
            await asyncio.gather(*workers, return_exceptions=True)

    async def emit_startup(self, **data: Any) -> None:
        await self.notify_all("startup", {**self.context, **data})

    async def emit_shutdown(self, **data: Any) -> None:
        await self.notify_all("shutdown", {**self.context, **data})


def usage_text(spec: Command, lang: str, t: Callable[..., str]) -> str:
    lines = [t("usage.title")]
    usage = spec.usage.get(lang) or spec.usage.get("zh") or f"!{spec.name}"
    lines.extend("  " + line for line in usage.splitlines())
    if spec.example:
        lines.append(t("usage.example") + " " + spec.example)
    return "\n".join(lines)
