"""Tables of whole recordings (a meeting, a phone call): the request, its file, its chunks.

A recording is shown as "R12". Its file travels from the bot's relay to the worker through
``voice_recording_audio`` (as a voice note's does); the worker cuts the decoded audio into
chunks and stores each chunk's text as it completes, so a worker killed mid-recording leaves
the chunks already done in the database and the next run goes on from the first one missing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from records.db import Base, UTCDateTime
from records.models import BigId

#: queued → done | failed (``error_key`` says why).
RECORDING_STATUSES = ("queued", "done", "failed")


class VoiceRecording(Base):
    """One request to transcribe an audio or video file, and where its transcript went."""

    __tablename__ = "voice_recordings"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    room_id: Mapped[str] = mapped_column(String(255), index=True)
    # The file's event (asking twice about one file is one recording) and the thread answered in.
    event_id: Mapped[str] = mapped_column(String(255), unique=True)
    thread_root: Mapped[str | None] = mapped_column(String(255))
    # Who asked: the file's sender, or who wrote `!转写` in reply to it.
    requester: Mapped[str] = mapped_column(String(255))
    # Known when the file itself arrived in the thread; else read from its event by the fetch.
    audio_url: Mapped[str | None] = mapped_column(String(512))
    file_info: Mapped[dict[str, object] | None] = mapped_column(JSON)
    lang: Mapped[str] = mapped_column(String(8), default="zh")
    status: Mapped[str] = mapped_column(String(16), default="queued")
    duration: Mapped[float | None] = mapped_column(Float)
    # The chunk plan's length, once the worker made it.
    chunks: Mapped[int | None] = mapped_column(Integer)
    error_key: Mapped[str | None] = mapped_column(String(64))
    error_detail: Mapped[str | None] = mapped_column(Text)
    filed_to: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def code(self) -> str:
        return f"R{self.id}"


class VoiceRecordingAudio(Base):
    """The file's (decrypted) bytes until the recording is finished."""

    __tablename__ = "voice_recording_audio"

    recording_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("voice_recordings.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    data: Mapped[bytes] = mapped_column(LargeBinary)


class VoiceRecordingChunk(Base):
    """One chunk of a recording (seconds from its start); ``text`` is None until transcribed."""

    __tablename__ = "voice_recording_chunks"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    recording_id: Mapped[int] = mapped_column(BigId, ForeignKey("voice_recordings.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    text: Mapped[str | None] = mapped_column(Text)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("recording_id", "seq", name="uq_voice_recording_chunk"),)
