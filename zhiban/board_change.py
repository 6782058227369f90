"""What a commit changed, named for the board's wake-up (server.board.BoardChange).

Every database session in the process notes the tables its flushes and write statements
touched (once this module is imported). After the commit, `named(session)` says which board
sections those tables feed and, when only notices were written row by row, whose boards.
A table not listed here changes every section of every board: naming too much costs reads,
naming too little would leave a board stale, so only what is known is narrowed.

The sections read (commands/*/board.py, emergency/board.py, commands/push/board.py) and the
tables they read, through their access rules too:
- approvals, tasks, meetings: their feature's own tables;
- emergency and duty: the incidents, orders and reports (shifts and handovers, which also
  decide who is on duty and so what they may see, change everything);
- notices: the notices and their deliveries, a delivery being one person's alone.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction
from sqlalchemy.sql.elements import ClauseElement, TextClause

from records.audit import TAIL_KEY

#: Tables whose rows only these sections show.
SECTIONS_OF: dict[str, frozenset[str]] = {
    **dict.fromkeys(
        ("approvals_approvals", "approvals_steps", "approvals_signers", "approvals_history"), frozenset({"approvals"})
    ),
    **dict.fromkeys(("tasks_tasks", "tasks_notes", "tasks_reminders"), frozenset({"tasks"})),
    **dict.fromkeys(
        ("meetings_meetings", "meetings_attendees", "meetings_minutes", "meetings_actions"), frozenset({"meetings"})
    ),
    **dict.fromkeys(
        (
            "emergency_incidents",
            "emergency_timeline",
            "emergency_orders",
            "emergency_receipts",
            "emergency_alert_acks",
            "emergency_reports",
            "emergency_log",
        ),
        frozenset({"emergency", "duty"}),
    ),
    **dict.fromkeys(("push_notices", "push_deliveries"), frozenset({"notices"})),
    # Read by no section: the bot's own bookkeeping, the audit trail, the web's sign-ins (a
    # stream checks its session on every wake-up and every few seconds anyway).
    **dict.fromkeys(
        (
            "audit_log",
            "audit_checkpoints",
            "outbox",
            "handled_events",
            "timers",
            "leases",
            "fsm_states",
            "board_actions",
            "push_signin_links",
            "push_subscriptions",
            "web_sessions",
            # Step-up confirmations and authenticators (records.stepup): the decision a
            # confirmation makes is named by the tables it writes.
            "stepup_requests",
            "stepup_passkeys",
            "stepup_totp",
            "stepup_registrations",
        ),
        frozenset(),
    ),
}
_DELIVERIES = "push_deliveries"
_NOTICES = "push_notices"
_KV = "kv"
#: Small named values (records.kv) no board reads; any other value may be a policy a section
#: applies, so its change changes everything.
INERT_KV = frozenset({TAIL_KEY})
_UNKNOWN = "?"  # a write whose table could not be told
_KEY = "board_change"
#: Beyond this many, a wake-up names no people (every board looks again at its notices).
MAX_PEOPLE = 1000
#: An OUTBOX wake-up's payload when a BOARD wake-up names what the same commits changed: the
#: boards leave the OUTBOX one to the bot's relay.
NAMED_APART = "board-named"


@dataclass
class _Noted:
    tables: set[str]
    # Whose deliveries were written, while every one was a row we saw (None: not known).
    people: set[str] | None


def _noted(session: Session) -> _Noted:
    noted: _Noted | None = session.info.get(_KEY)
    if noted is None:
        noted = session.info[_KEY] = _Noted(set(), set())
    return noted


@event.listens_for(Session, "after_flush")
def _flushed(session: Session, _flush: UOWTransaction) -> None:
    noted = _noted(session)
    for row in (*session.new, *session.dirty, *session.deleted):
        table = getattr(row, "__tablename__", _UNKNOWN)
        noted.tables.add(table)
        if noted.people is None:
            continue
        if table == _DELIVERIES:
            noted.people.add(str(row.user_id))
        elif table == _NOTICES and row not in session.new:
            noted.people = None  # a notice changed: whoever it reached, which no row here says


@event.listens_for(Session, "do_orm_execute")
def _executed(state: ORMExecuteState) -> None:
    statement = state.statement
    if state.is_select or (isinstance(statement, TextClause) and statement.text.lstrip()[:6].lower() == "select"):
        return  # a read (a textual one: PostgreSQL's advisory locks)
    noted = _noted(state.session)
    target: Any = getattr(statement, "table", None)
    table = getattr(target, "name", None) if (state.is_insert or state.is_update or state.is_delete) else None
    if table == _KV and isinstance(statement, ClauseElement) and statement.compile().params.get("key") in INERT_KV:
        return  # the audit trail's tail, which every audited commit moves
    noted.tables.add(table or _UNKNOWN)
    if table in (_DELIVERIES, _NOTICES):
        noted.people = None  # a statement's rows are not seen one by one


def named(session: Session | AsyncSession) -> str | None:
    """The board wake-up's payload for what `session` wrote ("" for everything), or None
    when it wrote nothing any board shows. Accepts an AsyncSession too (its sync session's
    notes are the same dict)."""
    noted: _Noted | None = session.info.get(_KEY)
    return None if noted is None else _payload(noted)


class Committed:
    """What the sessions committed inside `collecting()` wrote, as one wake-up's payload."""

    def __init__(self) -> None:
        self._noted = _Noted(set(), set())

    def add(self, noted: _Noted) -> None:
        self._noted.tables |= noted.tables
        if self._noted.people is not None:
            self._noted.people = None if noted.people is None else self._noted.people | noted.people

    def named(self) -> str | None:
        """As `named(session)`, for every commit collected."""
        return _payload(self._noted)


_collecting: ContextVar[Committed | None] = ContextVar("zhiban_board_collecting", default=None)


@contextmanager
def collecting() -> Iterator[Committed]:
    """Collect what every session committed in this context writes, the tasks it starts
    included: a worker's job runs its timers in several transactions (and I/O timers in tasks
    of their own), and its one wake-up names what they all changed. A rolled-back transaction
    is not collected."""
    committed = Committed()
    token = _collecting.set(committed)
    try:
        yield committed
    finally:
        _collecting.reset(token)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    into, noted = _collecting.get(), session.info.get(_KEY)
    if into is not None and noted is not None:
        into.add(noted)


def _payload(noted: _Noted) -> str | None:
    sections: set[str] = set()
    for table in noted.tables:
        known = SECTIONS_OF.get(table)
        if known is None:
            return ""
        sections |= known
    if not sections:
        return None
    payload: dict[str, list[str]] = {"sections": sorted(sections)}
    if sections == {"notices"} and noted.people is not None and len(noted.people) <= MAX_PEOPLE:
        payload["people"] = sorted(noted.people)
    return json.dumps(payload, separators=(",", ":"))


def parse(payload: str) -> tuple[frozenset[str] | None, frozenset[str] | None]:
    """A payload from `named` as (sections, people), None meaning all; anything unreadable
    names everything."""
    try:
        body = json.loads(payload) if payload else {}
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        return None, None
    return _strings(body.get("sections")), _strings(body.get("people"))


def _strings(value: object) -> frozenset[str] | None:
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return frozenset(str(item) for item in value)
    return None
