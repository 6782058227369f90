"""voice tables: voice notes (transcripts) and their audio bytes until transcribed

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "voice_notes",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("room_id", sa.String(length=255), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("thread_root", sa.String(length=255), nullable=True),
        sa.Column("sender", sa.String(length=255), nullable=False),
        sa.Column("audio_url", sa.String(length=512), nullable=False),
        sa.Column("file_info", sa.JSON(), nullable=True),
        sa.Column("mimetype", sa.String(length=128), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("claimed_ms", sa.Integer(), nullable=True),
        sa.Column("duration", sa.Float(), nullable=True),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("engine", sa.String(length=64), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("tokens", sa.Text(), nullable=True),
        sa.Column("error_key", sa.String(length=64), nullable=True),
        sa.Column("error_detail", sa.Text(), nullable=True),
        sa.Column("filed_to", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_notes")),
        sa.UniqueConstraint("event_id", name=op.f("uq_voice_notes_event_id")),
    )
    op.create_index(op.f("ix_voice_notes_room_id"), "voice_notes", ["room_id"], unique=False)
    op.create_index(op.f("ix_voice_notes_sender"), "voice_notes", ["sender"], unique=False)
    op.create_index(op.f("ix_voice_notes_thread_root"), "voice_notes", ["thread_root"], unique=False)
    op.create_index("ix_voice_notes_status", "voice_notes", ["status", "created_at"], unique=False)
    op.create_table(
        "voice_audio",
        sa.Column("note_id", _id(), autoincrement=False, nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["note_id"], ["voice_notes.id"], name=op.f("fk_voice_audio_note_id_voice_notes"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("note_id", name=op.f("pk_voice_audio")),
    )


def downgrade() -> None:
    op.drop_table("voice_audio")
    op.drop_index("ix_voice_notes_status", table_name="voice_notes")
    op.drop_index(op.f("ix_voice_notes_thread_root"), table_name="voice_notes")
    op.drop_index(op.f("ix_voice_notes_sender"), table_name="voice_notes")
    op.drop_index(op.f("ix_voice_notes_room_id"), table_name="voice_notes")
    op.drop_table("voice_notes")
