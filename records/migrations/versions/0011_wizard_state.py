"""wizard state in the database: a flow's step is written with the turn that moved it

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Report fields are kept in a JSON column (emergency_reports.fields): nothing to widen.
    op.create_table(
        "fsm_states",
        sa.Column("key", sa.String(length=2048), nullable=False),
        sa.Column("state", sa.String(length=255), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_fsm_states")),
    )
    op.create_index(op.f("ix_fsm_states_expires_at"), "fsm_states", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_fsm_states_expires_at"), table_name="fsm_states")
    op.drop_table("fsm_states")
