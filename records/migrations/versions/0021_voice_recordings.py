"""voice recordings: whole audio or video files, transcribed chunk by chunk

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "voice_recordings",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("room_id", sa.String(length=255), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("thread_root", sa.String(length=255), nullable=True),
        sa.Column("requester", sa.String(length=255), nullable=False),
        sa.Column("audio_url", sa.String(length=512), nullable=True),
        sa.Column("file_info", sa.JSON(), nullable=True),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("duration", sa.Float(), nullable=True),
        sa.Column("chunks", sa.Integer(), nullable=True),
        sa.Column("error_key", sa.String(length=64), nullable=True),
        sa.Column("error_detail", sa.Text(), nullable=True),
        sa.Column("filed_to", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_recordings")),
        sa.UniqueConstraint("event_id", name=op.f("uq_voice_recordings_event_id")),
    )
    op.create_index(op.f("ix_voice_recordings_room_id"), "voice_recordings", ["room_id"], unique=False)
    op.create_table(
        "voice_recording_audio",
        sa.Column("recording_id", _id(), autoincrement=False, nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["recording_id"],
            ["voice_recordings.id"],
            name=op.f("fk_voice_recording_audio_recording_id_voice_recordings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("recording_id", name=op.f("pk_voice_recording_audio")),
    )
    op.create_table(
        "voice_recording_chunks",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("recording_id", _id(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("start", sa.Float(), nullable=False),
        sa.Column("end", sa.Float(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["recording_id"],
            ["voice_recordings.id"],
            name=op.f("fk_voice_recording_chunks_recording_id_voice_recordings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_recording_chunks")),
        sa.UniqueConstraint("recording_id", "seq", name="uq_voice_recording_chunk"),
    )


def downgrade() -> None:
    op.drop_table("voice_recording_chunks")
    op.drop_table("voice_recording_audio")
    op.drop_index(op.f("ix_voice_recordings_room_id"), table_name="voice_recordings")
    op.drop_table("voice_recordings")
