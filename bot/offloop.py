"""Run a handler's CPU work (parsing a message, mostly) off the event loop, with a time limit.

The event loop serves every room and user at once: a parse that takes seconds on it stalls
everyone. ``off_loop`` runs the function in a small thread pool and waits at most
LIMIT_SECONDS; past that, the sender gets a short "too complex, please simplify" answer and nobody
else notices anything.

A thread cannot be killed: a function that may run long must also stop itself (the
project's parsers check a cooperative deadline). The context is copied into the thread, so
context variables (such a deadline, the current outbound writer) are seen there as here.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from bot.errors import UserFacingError

P = ParamSpec("P")
R = TypeVar("R")

# Longer than the parsers' own limit (1 s, timeparse/budget.py), which normally
# answers first and more precisely; this one also covers waiting for a free worker.
LIMIT_SECONDS = 3.0
# Two workers: parsing is CPU work and the machine has few cores; more threads would only
# contend for the interpreter lock with the event loop.
_executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="off-loop")


async def off_loop(fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
    """``fn(*args, **kwargs)`` in a worker thread; UserFacingError("error.too_complex") after
    ``LIMIT_SECONDS`` (``off_loop_limited`` takes another limit).

    Exceptions of ``fn`` (a user's mistake included) reach the caller unchanged.
    """
    return await off_loop_limited(LIMIT_SECONDS, fn, *args, **kwargs)


async def off_loop_limited(seconds: float, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
    """``off_loop`` with a limit of ``seconds``."""
    loop = asyncio.get_running_loop()
    context = contextvars.copy_context()
    call = functools.partial(context.run, fn, *args, **kwargs)
    future = loop.run_in_executor(_executor, call)
    try:
        return await asyncio.wait_for(future, seconds)
    except TimeoutError:
        raise UserFacingError("error.too_complex") from None
