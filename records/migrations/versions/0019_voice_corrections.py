"""voice corrections: the original transcript kept, the corrections, the memory, glossary edits

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("voice_notes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("original_text", sa.Text(), nullable=True))
    op.create_table(
        "voice_corrections",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("note_id", _id(), nullable=False),
        sa.Column("corrector", sa.String(length=255), nullable=False),
        sa.Column("before", sa.Text(), nullable=False),
        sa.Column("after", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["note_id"], ["voice_notes.id"], name=op.f("fk_voice_corrections_note_id_voice_notes"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_corrections")),
    )
    op.create_index(op.f("ix_voice_corrections_note_id"), "voice_corrections", ["note_id"], unique=False)
    op.create_table(
        "voice_memory",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("heard", sa.String(length=64), nullable=False),
        sa.Column("right", sa.String(length=64), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("by_admin", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_memory")),
        sa.UniqueConstraint("heard", "right", name="uq_voice_memory_pair"),
    )
    op.create_index(op.f("ix_voice_memory_heard"), "voice_memory", ["heard"], unique=False)
    op.create_table(
        "voice_terms",
        sa.Column("term", sa.String(length=64), nullable=False),
        sa.Column("removed", sa.Boolean(), nullable=False),
        sa.Column("changed_by", sa.String(length=255), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("term", name=op.f("pk_voice_terms")),
    )


def downgrade() -> None:
    op.drop_table("voice_terms")
    op.drop_index(op.f("ix_voice_memory_heard"), table_name="voice_memory")
    op.drop_table("voice_memory")
    op.drop_index(op.f("ix_voice_corrections_note_id"), table_name="voice_corrections")
    op.drop_table("voice_corrections")
    with op.batch_alter_table("voice_notes", schema=None) as batch_op:
        batch_op.drop_column("original_text")
