"""approvals tables: approvals (公文审批), their steps, signers and history

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "approvals_approvals",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("requester", sa.String(length=255), nullable=False),
        sa.Column("room_id", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("attachments", sa.JSON(), nullable=False),
        sa.Column("template", sa.String(length=64), nullable=True),
        sa.Column("cc", sa.JSON(), nullable=False),
        sa.Column("urgency", sa.String(length=32), nullable=True),
        sa.Column("secrecy", sa.String(length=32), nullable=True),
        sa.Column("doc_number", sa.String(length=128), nullable=True),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("tz", sa.String(length=64), nullable=False),
        sa.Column("policy", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_nudge_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approvals_approvals")),
    )
    op.create_index(op.f("ix_approvals_approvals_requester"), "approvals_approvals", ["requester"])
    op.create_index("ix_approvals_approvals_status", "approvals_approvals", ["status"])

    op.create_table(
        "approvals_steps",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("approval_id", _id(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("drafter", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approvals_steps")),
    )
    op.create_index(op.f("ix_approvals_steps_approval_id"), "approvals_steps", ["approval_id"])

    op.create_table(
        "approvals_signers",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("approval_id", _id(), nullable=False),
        sa.Column("step_id", _id(), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("opinion", sa.Text(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("added_by", sa.String(length=255), nullable=True),
        sa.Column("added_how", sa.String(length=16), nullable=True),
        sa.Column("transferred_to", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approvals_signers")),
    )
    op.create_index(op.f("ix_approvals_signers_approval_id"), "approvals_signers", ["approval_id"])
    op.create_index(op.f("ix_approvals_signers_step_id"), "approvals_signers", ["step_id"])
    op.create_index(op.f("ix_approvals_signers_user_id"), "approvals_signers", ["user_id"])

    op.create_table(
        "approvals_history",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("approval_id", _id(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("step_name", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=255), nullable=True),
        sa.Column("opinion", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approvals_history")),
    )
    op.create_index(op.f("ix_approvals_history_approval_id"), "approvals_history", ["approval_id"])


def downgrade() -> None:
    op.drop_table("approvals_history")
    op.drop_table("approvals_signers")
    op.drop_table("approvals_steps")
    op.drop_table("approvals_approvals")
