"""Bounds on one parse: how far ahead a time may be, and how long reading it may take.

Chat text is typed by anyone, and a parser that loops once per working day or tries every
position of a long message can be made to run for minutes. Every count is therefore capped
(the horizon below), and the outermost parser call starts a cooperative deadline that the
loops check: past it, the parse stops with ``time.too_complex``, a user error like any other.

The deadline lives in a context variable, so nested parsers (a meeting's text tries
``parse_when`` at many positions) share the limit of the outermost call, and a parse run in a
worker thread (``bot.offloop``) carries it along with the copied context.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import wraps
from typing import ParamSpec, TypeVar

from .errors import TimeParseError

# Nothing in the office is scheduled, due or reported more than this far from now; larger
# counts are typing mistakes, and they would overflow the calendar or loop for minutes.
HORIZON_YEARS = 10
HORIZON_DAYS = 366 * HORIZON_YEARS
MAX_WORKING_DAYS = 260 * HORIZON_YEARS
# The hard limit of one parse, in CPU seconds of the thread parsing (time.thread_time): a
# busy machine or a thread waiting for the interpreter lock does not count against the
# sender. Ordinary input takes well under a millisecond; the limit only stops hostile or
# absurd text, so it is generous.
PARSE_SECONDS = 1.0
# dateparser costs ~0.2–2 ms a call: one parse may ask it this many times, no more (one
# phrase needs at most 6: its leading 1..6 words).
FALLBACK_CALLS = 12

P = ParamSpec("P")
R = TypeVar("R")


class TooComplex(TimeParseError):
    """The parse ran out of time: the text is too long or too convoluted to read.

    It can surface from parsers whose callers only expect their own errors (a roster file, a
    chain), so the bot's error middleware answers it as the user's mistake wherever it lands.
    """

    def __init__(self) -> None:
        super().__init__("time.too_complex")


@dataclass
class _Budget:
    deadline: float
    fallback_calls: int = FALLBACK_CALLS


_current: ContextVar[_Budget | None] = ContextVar("zhiban_parse_budget", default=None)


@contextmanager
def parse_budget(seconds: float | None = None) -> Iterator[None]:
    """Start a deadline for this parse (PARSE_SECONDS by default), unless an outer parse
    already runs under one."""
    if _current.get() is not None:
        yield
        return
    limit = PARSE_SECONDS if seconds is None else seconds
    token = _current.set(_Budget(deadline=time.thread_time() + limit))
    try:
        yield
    finally:
        _current.reset(token)


def bounded(fn: Callable[P, R]) -> Callable[P, R]:
    """Run ``fn`` under a parse budget (the outermost call's, when nested)."""

    @wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with parse_budget():
            return fn(*args, **kwargs)

    return run


def check() -> None:
    """Raise TooComplex once the current parse is past its deadline (cheap: call it in loops)."""
    budget = _current.get()
    if budget is not None and time.thread_time() > budget.deadline:
        raise TooComplex()


def take_fallback_call() -> bool:
    """True when the current parse may still ask dateparser (and counts the call)."""
    check()
    budget = _current.get()
    if budget is None:
        return True
    if budget.fallback_calls <= 0:
        return False
    budget.fallback_calls -= 1
    return True


__all__ = [
    "FALLBACK_CALLS",
    "HORIZON_DAYS",
    "HORIZON_YEARS",
    "MAX_WORKING_DAYS",
    "PARSE_SECONDS",
    "TooComplex",
    "bounded",
    "check",
    "parse_budget",
    "take_fallback_call",
]
