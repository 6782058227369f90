"""Tables of the voice feature: one row per voice message, and its audio bytes until transcribed.

A voice note is shown as "V12". Its audio travels from the bot to the worker through the
``voice_audio`` table rather than a shared folder: the bytes commit in the same transaction as
the note's timer and the end of the fetch that got them (commands/voice/fetch.py: no orphan
file when it rolls back, no missing file when it commits), and a worker on another machine
reads them with nothing but the database URL.
The bytes are deleted once the note is finished; the mxc URI stays as the audio reference.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from records.db import Base, UTCDateTime
from records.models import BigId

#: queued → done | empty (no speech) | failed (the audio could not be fetched, decoded or
#: transcribed: ``error_key`` says which). Refused before it is recorded: never stored.
STATUSES = ("queued", "done", "empty", "failed")


class VoiceNote(Base):
    """A voice message and, once the worker is done, its transcript and where it was filed."""

    __tablename__ = "voice_notes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    room_id: Mapped[str] = mapped_column(String(255), index=True)
    # The voice message itself, and the thread it was sent in (None: the main timeline).
    event_id: Mapped[str] = mapped_column(String(255), unique=True)
    thread_root: Mapped[str | None] = mapped_column(String(255), index=True)
    sender: Mapped[str] = mapped_column(String(255), index=True)
    # The audio reference: the mxc URI, and for encrypted attachments the file info (JWK, iv,
    # hashes) exactly as the event carried it.
    audio_url: Mapped[str] = mapped_column(String(512))
    file_info: Mapped[dict[str, object] | None] = mapped_column(JSON)
    # From the event: an encrypted file's bytes say nothing useful about their type.
    mimetype: Mapped[str | None] = mapped_column(String(128))
    size: Mapped[int | None] = mapped_column(Integer)
    # What the client claimed, then what the decoder measured (seconds).
    claimed_ms: Mapped[int | None] = mapped_column(Integer)
    duration: Mapped[float | None] = mapped_column(Float)
    # The reply language of the sender when the note was queued.
    lang: Mapped[str] = mapped_column(String(8), default="zh")
    status: Mapped[str] = mapped_column(String(16), default="queued")
    language: Mapped[str | None] = mapped_column(String(8))
    engine: Mapped[str | None] = mapped_column(String(64))
    text: Mapped[str | None] = mapped_column(Text)
    # The engine's transcript as first stored, kept once someone corrects ``text``.
    original_text: Mapped[str | None] = mapped_column(Text)
    # jieba's search-mode segmentation of the text, space separated and padded with spaces,
    # so that " 防汛 " finds the word whatever the database (see service.search).
    tokens: Mapped[str | None] = mapped_column(Text)
    error_key: Mapped[str | None] = mapped_column(String(64))
    error_detail: Mapped[str | None] = mapped_column(Text)
    # Where the transcript was filed, e.g. "E3 timeline" / "T7 progress"; None if nowhere.
    filed_to: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_voice_notes_status", "status", "created_at"),)

    @property
    def code(self) -> str:
        return f"V{self.id}"


class VoiceAudio(Base):
    """The (decrypted) audio bytes of a queued note; deleted when the note is finished."""

    __tablename__ = "voice_audio"

    note_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("voice_notes.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    data: Mapped[bytes] = mapped_column(LargeBinary)


class VoiceCorrection(Base):
    """One correction of a transcript: who replaced which text with which (the history)."""

    __tablename__ = "voice_corrections"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    note_id: Mapped[int] = mapped_column(BigId, ForeignKey("voice_notes.id", ondelete="CASCADE"), index=True)
    corrector: Mapped[str] = mapped_column(String(255))
    before: Mapped[str] = mapped_column(Text)
    after: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class VoiceMemory(Base):
    """The office's correction memory: ``heard`` was transcribed where people said ``right``.

    ``count`` is how many different people confirmed it (``VoiceMemoryConfirmer``: one person
    correcting the same mishearing again is still one opinion); ``by_admin`` that an admin made
    one of them, which puts it in force at once (else from ``voice.memory_confirmations`` people on).
    """

    __tablename__ = "voice_memory"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    heard: Mapped[str] = mapped_column(String(64), index=True)
    right: Mapped[str] = mapped_column(String(64))
    count: Mapped[int] = mapped_column(Integer, default=0)
    by_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("heard", "right", name="uq_voice_memory_pair"),)


class VoiceMemoryConfirmer(Base):
    """One person who confirmed a memory pair (by correcting a transcript with it)."""

    __tablename__ = "voice_memory_confirmers"

    memory_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("voice_memory.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    corrector: Mapped[str] = mapped_column(String(255), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class VoiceTerm(Base):
    """An office's edit of the transcription glossary: a term added, or a shipped one removed."""

    __tablename__ = "voice_terms"

    term: Mapped[str] = mapped_column(String(64), primary_key=True)
    removed: Mapped[bool] = mapped_column(Boolean, default=False)
    changed_by: Mapped[str] = mapped_column(String(255))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
