"""meetings tables

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL gets BIGINT.
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _meeting_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["meeting_id"],
        ["meetings_meetings.id"],
        name=op.f(f"fk_{table}_meeting_id_meetings_meetings"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "meetings_meetings",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("organizer", sa.String(length=255), nullable=False),
        sa.Column("room_id", sa.String(length=255), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("place", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("checkin_code", sa.String(length=16), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("tz", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meetings_meetings")),
    )
    op.create_index("ix_meetings_meetings_organizer", "meetings_meetings", ["organizer"])
    op.create_index("ix_meetings_meetings_room_id", "meetings_meetings", ["room_id"])
    op.create_index("ix_meetings_meetings_status_start", "meetings_meetings", ["status", "starts_at"])

    op.create_table(
        "meetings_attendees",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("meeting_id", _ID, nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("response", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("deputy", sa.String(length=255), nullable=True),
        sa.Column("deputy_for", sa.String(length=255), nullable=True),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=True),
        _meeting_fk("meetings_attendees"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meetings_attendees")),
        sa.UniqueConstraint("meeting_id", "user_id", name="uq_meetings_attendees_person"),
    )
    op.create_index("ix_meetings_attendees_meeting_id", "meetings_attendees", ["meeting_id"])
    op.create_index("ix_meetings_attendees_user_id", "meetings_attendees", ["user_id"])

    op.create_table(
        "meetings_minutes",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("meeting_id", _ID, nullable=False),
        sa.Column("author", sa.String(length=255), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        _meeting_fk("meetings_minutes"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meetings_minutes")),
    )
    op.create_index("ix_meetings_minutes_meeting_id", "meetings_minutes", ["meeting_id"])

    op.create_table(
        "meetings_actions",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("meeting_id", _ID, nullable=False),
        sa.Column("assignee", sa.String(length=255), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("task_id", _ID, nullable=True),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _meeting_fk("meetings_actions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meetings_actions")),
    )
    op.create_index("ix_meetings_actions_meeting_id", "meetings_actions", ["meeting_id"])


def downgrade() -> None:
    for table in ("meetings_actions", "meetings_minutes", "meetings_attendees", "meetings_meetings"):
        op.drop_table(table)
