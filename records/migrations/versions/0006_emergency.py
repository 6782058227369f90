"""emergency tables: duty roster and log, incidents, timeline, orders and receipts, reports

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "emergency_handovers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("from_user", sa.String(length=255), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("room_id", sa.String(length=255), nullable=False),
        sa.Column("to_users", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acked_by", sa.String(length=255), nullable=True),
        sa.Column("acked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emergency_handovers")),
    )
    op.create_table(
        "emergency_incidents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("grade", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=True),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("room_id", sa.String(length=255), nullable=True),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("tz", sa.String(length=64), nullable=False),
        sa.Column("declared_by", sa.String(length=255), nullable=False),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("members", sa.JSON(), nullable=False),
        sa.Column("first_minutes", sa.Integer(), nullable=False),
        sa.Column("update_minutes", sa.Integer(), nullable=False),
        sa.Column("remind_minutes", sa.Integer(), nullable=False),
        sa.Column("ack_minutes", sa.Integer(), nullable=False),
        sa.Column("nag_escalate_after", sa.Integer(), nullable=False),
        sa.Column("nag_max", sa.Integer(), nullable=False),
        sa.Column("next_report", sa.String(length=16), nullable=True),
        sa.Column("next_report_due", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updates_filed", sa.Integer(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=255), nullable=True),
        sa.Column("final_markdown", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emergency_incidents")),
    )
    with op.batch_alter_table("emergency_incidents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_emergency_incidents_room_id"), ["room_id"], unique=False)

    op.create_table(
        "emergency_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=True),
        sa.Column("reporter", sa.String(length=255), nullable=True),
        sa.Column("contact", sa.String(length=255), nullable=True),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("told", sa.JSON(), nullable=False),
        sa.Column("recorded_by", sa.String(length=255), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emergency_log")),
    )
    op.create_table(
        "emergency_shifts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("leader", sa.String(length=255), nullable=True),
        sa.Column("officers", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emergency_shifts")),
    )
    with op.batch_alter_table("emergency_shifts", schema=None) as batch_op:
        batch_op.create_index("ix_emergency_shifts_span", ["starts_at", "ends_at"], unique=False)

    op.create_table(
        "emergency_orders",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("room_id", sa.String(length=255), nullable=False),
        sa.Column("issued_by", sa.String(length=255), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["emergency_incidents.id"],
            name=op.f("fk_emergency_orders_incident_id_emergency_incidents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emergency_orders")),
    )
    with op.batch_alter_table("emergency_orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_emergency_orders_incident_id"), ["incident_id"], unique=False)

    op.create_table(
        "emergency_reports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("filed_by", sa.String(length=255), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["emergency_incidents.id"],
            name=op.f("fk_emergency_reports_incident_id_emergency_incidents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emergency_reports")),
    )
    with op.batch_alter_table("emergency_reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_emergency_reports_incident_id"), ["incident_id"], unique=False)

    op.create_table(
        "emergency_timeline",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["emergency_incidents.id"],
            name=op.f("fk_emergency_timeline_incident_id_emergency_incidents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emergency_timeline")),
    )
    with op.batch_alter_table("emergency_timeline", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_emergency_timeline_incident_id"), ["incident_id"], unique=False)

    op.create_table(
        "emergency_receipts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("acked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_note", sa.Text(), nullable=True),
        sa.Column("nags", sa.Integer(), nullable=False),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"], ["emergency_orders.id"], name=op.f("fk_emergency_receipts_order_id_emergency_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emergency_receipts")),
    )
    with op.batch_alter_table("emergency_receipts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_emergency_receipts_order_id"), ["order_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("emergency_receipts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_emergency_receipts_order_id"))

    op.drop_table("emergency_receipts")
    with op.batch_alter_table("emergency_timeline", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_emergency_timeline_incident_id"))

    op.drop_table("emergency_timeline")
    with op.batch_alter_table("emergency_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_emergency_reports_incident_id"))

    op.drop_table("emergency_reports")
    with op.batch_alter_table("emergency_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_emergency_orders_incident_id"))

    op.drop_table("emergency_orders")
    with op.batch_alter_table("emergency_shifts", schema=None) as batch_op:
        batch_op.drop_index("ix_emergency_shifts_span")

    op.drop_table("emergency_shifts")
    op.drop_table("emergency_log")
    with op.batch_alter_table("emergency_incidents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_emergency_incidents_room_id"))

    op.drop_table("emergency_incidents")
    op.drop_table("emergency_handovers")
