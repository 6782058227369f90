"""tasks tables: reminders, supervised tasks (督办) and their notes

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "tasks_reminders",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("owner", sa.String(length=255), nullable=False),
        sa.Column("target", sa.String(length=8), nullable=False),
        sa.Column("room_id", sa.String(length=255), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rule", sa.String(length=255), nullable=True),
        sa.Column("tz", sa.String(length=64), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("alarm", sa.Boolean(), nullable=False),
        sa.Column("ringing", sa.Boolean(), nullable=False),
        sa.Column("subscribers", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("fired_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks_reminders")),
    )
    op.create_index(op.f("ix_tasks_reminders_owner"), "tasks_reminders", ["owner"], unique=False)

    op.create_table(
        "tasks_tasks",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("assigner", sa.String(length=255), nullable=False),
        sa.Column("lead", sa.String(length=255), nullable=False),
        sa.Column("co_owners", sa.JSON(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=True),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ext_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ext_reason", sa.Text(), nullable=True),
        sa.Column("ext_by", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks_tasks")),
    )
    op.create_index(op.f("ix_tasks_tasks_assigner"), "tasks_tasks", ["assigner"], unique=False)
    op.create_index(op.f("ix_tasks_tasks_lead"), "tasks_tasks", ["lead"], unique=False)
    op.create_index("ix_tasks_tasks_status_due", "tasks_tasks", ["status", "due_at"], unique=False)

    op.create_table(
        "tasks_notes",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("task_id", _id(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("percent", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks_notes")),
    )
    op.create_index(op.f("ix_tasks_notes_task_id"), "tasks_notes", ["task_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_tasks_notes_task_id"), table_name="tasks_notes")
    op.drop_table("tasks_notes")
    op.drop_index("ix_tasks_tasks_status_due", table_name="tasks_tasks")
    op.drop_index(op.f("ix_tasks_tasks_lead"), table_name="tasks_tasks")
    op.drop_index(op.f("ix_tasks_tasks_assigner"), table_name="tasks_tasks")
    op.drop_table("tasks_tasks")
    op.drop_index(op.f("ix_tasks_reminders_owner"), table_name="tasks_reminders")
    op.drop_table("tasks_reminders")
