"""What a benchmark's path asks of PostgreSQL: its statements' plans, and prepared-statement reuse.

`recording(db)` keeps each distinct statement the engine sends (with the first parameters seen)
and counts how often asyncpg had to prepare one; `print_plans` then shows, for each statement
that reads rows by a condition or in an order, the plan PostgreSQL picks with sequential scans disabled: a
statement that still scans a whole table has no index for its condition (on a bench's small
tables the planner would scan anyway, which says nothing about production's).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event as sa_event

from records.db import Database

# Statements whose plan says something about indexes (an INSERT's does not).
_READS_ROWS = ("SELECT", "UPDATE", "DELETE")


@dataclass
class Recorded:
    statements: dict[str, Sequence[Any]] = field(default_factory=dict)
    executions: int = 0
    prepares: int = 0


@contextmanager
def recording(db: Database, *, into: Recorded | None = None) -> Iterator[Recorded]:
    """The distinct statements sent meanwhile, and how many asyncpg prepared (a statement cached
    on its connection is only executed: one round trip instead of two), added `into` a record
    (a new one if none is given)."""
    import asyncpg

    seen = into if into is not None else Recorded()
    original = asyncpg.Connection.prepare

    def before(_conn: object, _cursor: object, statement: str, parameters: Any, *_rest: object) -> None:
        seen.executions += 1
        seen.statements.setdefault(statement, parameters if isinstance(parameters, Sequence) else ())

    async def counted_prepare(self: asyncpg.Connection, query: str, **kwargs: Any) -> Any:
        seen.prepares += 1
        return await original(self, query, **kwargs)

    sa_event.listen(db.engine.sync_engine, "before_cursor_execute", before)
    asyncpg.Connection.prepare = counted_prepare  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        asyncpg.Connection.prepare = original  # type: ignore[method-assign]
        sa_event.remove(db.engine.sync_engine, "before_cursor_execute", before)


async def print_plans(db: Database, recorded: Recorded) -> None:
    """Each row-reading statement's plan with sequential scans off; flagged when it has no index."""
    shown = 0
    async with db.engine.connect() as conn:
        raw = await conn.get_raw_connection()
        driver: Any = raw.driver_connection
        await driver.execute("SET enable_seqscan = off")
        for statement, params in recorded.statements.items():
            head = statement.lstrip().split(None, 1)[0].upper()
            if head not in _READS_ROWS or not ("WHERE" in statement.upper() or "ORDER BY" in statement.upper()):
                continue
            try:
                rows = await driver.fetch("EXPLAIN " + statement, *params)
            except Exception as exc:  # a statement EXPLAIN cannot take as sent: say so, go on
                print(f"    (no plan: {type(exc).__name__}) {' '.join(statement.split())[:100]}")
                continue
            plan = "; ".join(str(r[0]).strip() for r in rows)
            verdict = "NO INDEX" if "Seq Scan" in plan else "index"
            print(f"    [{verdict}] {' '.join(statement.split())[:110]}")
            print(f"             {plan[:220]}")
            shown += 1
        await driver.execute("RESET enable_seqscan")
    if not shown:
        print("    (no statement read rows by a condition)")
