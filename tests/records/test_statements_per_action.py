"""How many SQL statements an everyday action sends (issue #20): an approval decision, an order
acknowledgement, an RSVP and a reminder firing, on SQLite and PostgreSQL.

A count, not a time: each statement is a round trip that an office acting all at once (an
incident, Monday 09:00) queues behind. The bounds are a regression guard a little above what
the actions send now (`python -m bench.statements` prints the figures; an acknowledgement on
PostgreSQL also waits for the order's row lock and reads its receipts again, so that two at once
both show on the card: emergency.orders); before the work of
issue #20 they sent 44, 19, 13 and 17 (SQLite). The actions' effects are checked too: what a
transaction now writes at its end (its audit entries) must really be written.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bench import statements
from records import audit
from records.db import Database
from records.models import AuditEntry

BOUNDS = {
    "approval decision": 24,
    # 17 on PostgreSQL: the order's row lock and its receipts read again under it (two acks at once
    # both on the card), and the sent refs read apart from the few full rows the card needs.
    "order acknowledgement": 17,
    "RSVP": 12,
    "reminder firing": 12,
}
# What each action leaves in the audit trail (a reminder firing records nothing).
AUDITED = {
    "approval decision": ["approval.approve", "approval.approved"],
    "order acknowledgement": ["order.ack"],
    "RSVP": ["meeting.attend"],
    "reminder firing": [],
}


@pytest.mark.parametrize("action", list(BOUNDS))
async def test_an_action_sends_few_statements_and_its_audit_entries_are_written(database_url: str, action: str) -> None:
    (count,) = await statements.count_action(database_url, statements.ACTIONS[action], 1, show=False)
    assert count <= BOUNDS[action], f"{action}: {count} statements (bound {BOUNDS[action]})"

    db = Database(database_url)
    try:
        async with db.reading() as session:
            trail = list(await session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
            verified = await audit.verify(session)
    finally:
        await db.dispose()
    assert verified.ok, verified.reason
    recorded = [entry.action for entry in trail]
    assert recorded[len(recorded) - len(AUDITED[action]) :] == AUDITED[action]
