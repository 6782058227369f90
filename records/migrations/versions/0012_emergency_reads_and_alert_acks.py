"""emergency: when each recipient read an order, and who acknowledged an incident's alert

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Orders issued before this revision were never tracked as read: their column stays empty.
    with op.batch_alter_table("emergency_receipts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("read_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "emergency_alert_acks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("alerted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["emergency_incidents.id"],
            name=op.f("fk_emergency_alert_acks_incident_id_emergency_incidents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emergency_alert_acks")),
        sa.UniqueConstraint("incident_id", "user_id", name="uq_emergency_alert_acks_person"),
    )
    with op.batch_alter_table("emergency_alert_acks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_emergency_alert_acks_incident_id"), ["incident_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("emergency_alert_acks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_emergency_alert_acks_incident_id"))
    op.drop_table("emergency_alert_acks")
    with op.batch_alter_table("emergency_receipts", schema=None) as batch_op:
        batch_op.drop_column("read_at")
