"""the correction memory counts the people who confirmed a pair, not their corrections

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "voice_memory_confirmers",
        sa.Column("memory_id", _id(), autoincrement=False, nullable=False),
        sa.Column("corrector", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["memory_id"],
            ["voice_memory.id"],
            name=op.f("fk_voice_memory_confirmers_memory_id_voice_memory"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("memory_id", "corrector", name=op.f("pk_voice_memory_confirmers")),
    )
    # Who made the corrections counted so far was not kept: they may all have been one person,
    # so each pair counts as one confirmation now (an admin's stays in force).
    op.execute("UPDATE voice_memory SET count = 1 WHERE count > 1")


def downgrade() -> None:
    op.drop_table("voice_memory_confirmers")
