"""indexes the board's reads need (open incidents, unacknowledged receipts, stuck steps)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("ix_emergency_incidents_status_grade", "emergency_incidents", ["status", "grade"]),
    ("ix_emergency_incidents_declared", "emergency_incidents", ["declared_at"]),
    ("ix_emergency_receipts_unacked", "emergency_receipts", ["acked_at", "order_id"]),
    ("ix_emergency_receipts_user", "emergency_receipts", ["user_id", "acked_at"]),
    ("ix_approvals_steps_status_started", "approvals_steps", ["status", "started_at"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
