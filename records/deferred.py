"""Rows a transaction writes once, at its end, all together: audit entries, chat notices.

An action appends two or three audit entries and notes a DM or two; written one by one, each
costs its statements where it is made (the chain's tail read, the entry, the stored tail). Here
they wait in the session and are written together just before the transaction commits, in as
few statements as their kind needs, or earlier when something in the transaction reads their
table (an ORM query naming it), so that a reader never misses what the transaction already
did. Whatever a rolled-back savepoint queued is dropped with it, as its rows would have been.

A kind registers a writer (`writer`): a plain function given the synchronous session (it runs
inside the flush's greenlet, where the async session's driver can be called synchronously) and
the items queued, in the order they were queued.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

_PENDING = "zhiban.deferred"

Writer = Callable[[Session, list[Any]], None]


@dataclass(frozen=True)
class _Kind:
    write: Writer
    tables: frozenset[str]


@dataclass(frozen=True)
class _Item:
    kind: str
    savepoint: SessionTransaction | None
    value: Any


_kinds: dict[str, _Kind] = {}


def writer(kind: str, tables: Iterable[str]) -> Callable[[Writer], Writer]:
    """Register the writer of `kind`; a query naming one of `tables` writes what waits first."""

    def register(write: Writer) -> Writer:
        _kinds[kind] = _Kind(write, frozenset(tables))
        return write

    return register


def _sync(session: AsyncSession | Session) -> Session:
    return session.sync_session if isinstance(session, AsyncSession) else session


def add(session: AsyncSession | Session, kind: str, value: Any) -> None:
    """Queue `value` to be written by `kind`'s writer before this transaction commits."""
    sync = _sync(session)
    sync.info.setdefault(_PENDING, []).append(_Item(kind, sync.get_nested_transaction(), value))


def pending(session: AsyncSession | Session, kind: str) -> list[Any]:
    return [item.value for item in _sync(session).info.get(_PENDING, []) if item.kind == kind]


def discard(session: AsyncSession | Session, kind: str, drop: Callable[[Any], bool]) -> None:
    """Take back what waits of `kind` that `drop` picks (it is no longer to be written)."""
    sync = _sync(session)
    queued: list[_Item] = sync.info.get(_PENDING) or []
    sync.info[_PENDING] = [item for item in queued if item.kind != kind or not drop(item.value)]


def write(session: Session, kinds: Iterable[str] | None = None) -> None:
    """Write what waits (of `kinds`, else of every kind), each kind's items in one call."""
    queued: list[_Item] = session.info.get(_PENDING) or []
    wanted = None if kinds is None else set(kinds)
    taking = [item for item in queued if wanted is None or item.kind in wanted]
    if not taking:
        return
    session.info[_PENDING] = [item for item in queued if wanted is not None and item.kind not in wanted]
    for kind in dict.fromkeys(item.kind for item in taking):
        _kinds[kind].write(session, [item.value for item in taking if item.kind == kind])


async def flush(session: AsyncSession, *kinds: str) -> None:
    """Write now what waits (of `kinds`, else everything), before reading it another way."""
    if session.sync_session.info.get(_PENDING):
        await session.run_sync(write, kinds or None)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    write(session)


@event.listens_for(Session, "do_orm_execute")
def _before_read(state: ORMExecuteState) -> None:
    queued: list[_Item] = state.session.info.get(_PENDING) or []
    if not queued:
        return
    named = {mapper.local_table.name for mapper in state.all_mappers if hasattr(mapper.local_table, "name")}
    kinds = {item.kind for item in queued if _kinds[item.kind].tables & named}
    if kinds:
        write(state.session, kinds)


def _inside(savepoint: SessionTransaction | None, ended: SessionTransaction) -> bool:
    while savepoint is not None:
        if savepoint is ended:
            return True
        savepoint = savepoint.parent
    return False


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous: SessionTransaction) -> None:
    queued: list[_Item] = session.info.get(_PENDING) or []
    if not queued:
        return
    if not previous.nested:
        session.info[_PENDING] = []
        return
    session.info[_PENDING] = [item for item in queued if not _inside(item.savepoint, previous)]


# -- caches that last one transaction -------------------------------------------------------------
_per_transaction: set[str] = set()


def per_transaction(key: str) -> str:
    """Name a cache kept in `session.info` (people, kv values, messages read once per
    transaction): dropped when the transaction commits or rolls back, so that no later one
    sees a stale row."""
    _per_transaction.add(key)
    return key


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, *_args: object) -> None:
    for key in _per_transaction:
        session.info.pop(key, None)
