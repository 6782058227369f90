"""Routers and observers, in the manner of aiogram 3.

A Router holds observers (message, reaction, member, redaction, receipt, error, startup, shutdown);
each observer holds handlers with their filters. Routers nest; the first handler whose
filters all pass takes the event.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from bot.filters import Command, FilterFunc

Handler = Callable[..., Awaitable[Any]]
NextHandler = Callable[[Any, dict[str, Any]], Awaitable[Any]]
Middleware = Callable[[NextHandler, Any, dict[str, Any]], Awaitable[Any]]


class _Unhandled:
    def __repr__(self) -> str:
        return "UNHANDLED"


UNHANDLED: Any = _Unhandled()

# Bumped whenever a handler or a router is added anywhere, so that a table built from the
# routers (the dispatcher's commands) knows when to build itself again.
_generation = 0


def _changed() -> None:
    global _generation
    _generation += 1


def generation() -> int:
    return _generation


@dataclass
class HandlerObject:
    callback: Handler
    filters: list[FilterFunc] = field(default_factory=list)

    def __post_init__(self) -> None:
        signature = inspect.signature(self.callback)
        self._takes_all = any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values())
        self._params = [
            name for name, p in signature.parameters.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        ]
        self.commands = [f for f in self.filters if isinstance(f, Command)]

    async def check(self, event: Any, data: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        extra: dict[str, Any] = {}
        for check in self.filters:
            # The event's own data while no filter has added values: what a filter caches there
            # (the parsed command) then lasts for every handler of the event, not one check.
            result = check(event, {**data, **extra} if extra else data)
            if inspect.isawaitable(result):
                result = await result
            if not result:
                return False, {}
            if isinstance(result, dict):
                extra.update(result)
        return True, extra

    async def call(self, event: Any, data: dict[str, Any]) -> Any:
        """Call the handler with the values it names: `message`, `command`, `state`, services…"""
        available = {**data, "event": event, "message": event, "reaction": event, "receipt": event}
        if self._takes_all:
            kwargs = available
        else:
            kwargs = {name: available[name] for name in self._params if name in available}
        return await self.callback(**kwargs)


class Observer:
    def __init__(self, router: Router, name: str) -> None:
        self.router = router
        self.name = name
        self.handlers: list[HandlerObject] = []
        self.middlewares: list[Middleware] = []

    def register(self, callback: Handler, *filters: FilterFunc) -> Handler:
        self.handlers.append(HandlerObject(callback, list(filters)))
        _changed()
        return callback

    def __call__(self, *filters: FilterFunc) -> Callable[[Handler], Handler]:
        def decorate(callback: Handler) -> Handler:
            return self.register(callback, *filters)

        return decorate

    def middleware(self, middleware: Middleware) -> Middleware:
        """An inner middleware: runs around a handler whose filters have passed."""
        self.middlewares.append(middleware)
        return middleware

    async def trigger(self, event: Any, data: dict[str, Any]) -> Any:
        for handler in self.handlers:
            matched, extra = await handler.check(event, data)
            if not matched:
                continue
            # The matched values join the event's data, so that error reporting sees the command.
            data.update(extra)
            data["handler"] = handler
            data["router"] = self.router.name  # the feature that took it, for metrics and logs
            return await _wrap(handler.call, self.middlewares)(event, data)
        return UNHANDLED


def _wrap(call: NextHandler, middlewares: list[Middleware]) -> NextHandler:
    for middleware in reversed(middlewares):
        call = _bind(middleware, call)
    return call


def _bind(middleware: Middleware, nxt: NextHandler) -> NextHandler:
    async def run(event: Any, data: dict[str, Any]) -> Any:
        return await middleware(nxt, event, data)

    return run


class Router:
    OBSERVERS = ("message", "reaction", "member", "redaction", "receipt", "error", "startup", "shutdown")

    def __init__(self, name: str = "router") -> None:
        self.name = name
        self.sub_routers: list[Router] = []
        self.parent: Router | None = None
        self.observers = {n: Observer(self, n) for n in self.OBSERVERS}
        self.message = self.observers["message"]
        self.reaction = self.observers["reaction"]
        self.member = self.observers["member"]
        self.redaction = self.observers["redaction"]
        self.receipt = self.observers["receipt"]
        self.error = self.observers["error"]
        self.startup = self.observers["startup"]
        self.shutdown = self.observers["shutdown"]

    def include_router(self, router: Router) -> Router:
        if router.parent is not None:
            raise RuntimeError(f"router {router.name!r} is already included in {router.parent.name!r}")
        router.parent = self
        self.sub_routers.append(router)
        _changed()
        return router

    def chain(self) -> Iterator[Router]:
        yield self
        for sub in self.sub_routers:
            yield from sub.chain()

    async def propagate(self, observer: str, event: Any, data: dict[str, Any]) -> Any:
        result = await self.observers[observer].trigger(event, data)
        if result is not UNHANDLED:
            return result
        for sub in self.sub_routers:
            result = await sub.propagate(observer, event, data)
            if result is not UNHANDLED:
                return result
        return UNHANDLED

    async def notify_all(self, observer: str, data: dict[str, Any]) -> None:
        """Startup and shutdown go to every handler of every router."""
        for router in self.chain():
            for handler in router.observers[observer].handlers:
                await handler.call(None, data)

    def commands(self) -> list[Command]:
        found: list[Command] = []
        for router in self.chain():
            for handler in router.message.handlers:
                found.extend(handler.commands)
        return found
