"""How tasks are named: their codes (T7), the outbox refs of what is said about them, and the
keys of their timers. Plain functions, so that the service, the timers and the chat side all
read the same names without importing one another."""

from __future__ import annotations

import re

from records.errors import NotFound

_CODE = re.compile(r"^[Tt]?(\d{1,12})$")


def parse_code(code: str) -> int:
    m = _CODE.match(code.strip())
    if not m:
        raise NotFound("task.not_found", code=code[:20])
    return int(m.group(1))


def card_ref(task_id: int) -> str:
    """The task card in a room: edited in place (m.replace) on every change of state."""
    return f"task:T{task_id}"


def dm_ref(task_id: int) -> str:
    """DMs about the task (assigned, progress, reminders…): their own ref, so that the card's
    ref names the card alone and an edit of the card never lands on a DM."""
    return f"task:T{task_id}:dm"


def done_ref(task_id: int) -> str:
    """The completion notice: ✅ on it accepts the task."""
    return f"task:T{task_id}:done"


def ext_ref(task_id: int) -> str:
    """The extension request: ✅ approves it, ❌ refuses it."""
    return f"task:T{task_id}:ext"


def parse_ref(ref: str) -> tuple[int, str] | None:
    """("task:T7:done") → (7, "done"); the card itself gives (7, ""), a DM about it (7, "dm")."""
    m = re.fullmatch(r"task:T(\d+)(?::(done|ext|dm))?", ref)
    return None if m is None else (int(m.group(1)), m.group(2) or "")


def timer_prefix(task_id: int) -> str:
    """Every timer of one task starts with this (cancelled together when it closes)."""
    return f"task:T{task_id}:"


def label(minutes: int) -> str:
    """A reminder timer's suffix: "1d", "2h", "30m"."""
    if minutes % 1440 == 0:
        return f"{minutes // 1440}d"
    if minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}m"
