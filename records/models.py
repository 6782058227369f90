"""Tables of the shared ground: people, audit trail, outbox, event ledger, timers, bot state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from records.db import Base, UTCDateTime

# SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL wants BIGINT for big tables.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Person(Base):
    """A Matrix user as Zhiban knows them: preferences and roles given by config or by an admin."""

    __tablename__ = "people"

    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    display_name: Mapped[str | None] = mapped_column(String(255))
    lang: Mapped[str | None] = mapped_column(String(8))
    tz: Mapped[str | None] = mapped_column(String(64))
    roles: Mapped[list[Any]] = mapped_column(JSON, default=list)
    quiet_hours: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # From the duty roster: escalations name it beside the person, so whoever is told can call.
    phone: Mapped[str | None] = mapped_column(String(32))


class AuditEntry(Base):
    """One link of the append-only, hash-chained audit trail."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    # HMAC of the hash with a key kept outside the database; NULL for entries written before
    # sealing began (they are still covered by the chain of hashes).
    hmac: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (Index("ix_audit_subject", "subject"),)


class AuditCheckpoint(Base):
    """A signed record of the chain head at one moment; also kept in a file and posted to a room."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    head: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The first sealed entry when the checkpoint was taken (NULL: none was sealed yet).
    sealed_from: Mapped[int | None] = mapped_column(BigInteger)
    hmac: Mapped[str] = mapped_column(String(64))


class OutboxMessage(Base):
    """A Matrix event to send, written in the same transaction as the change that causes it.

    The relay sends it with `txn_id` as the Matrix transaction id, so a resend after a crash
    is deduplicated by the homeserver.
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Either a room, or a user whose direct-message room the relay resolves (and creates).
    room_id: Mapped[str | None] = mapped_column(String(255))
    to_user: Mapped[str | None] = mapped_column(String(255))
    event_type: Mapped[str] = mapped_column(String(128), default="m.room.message")
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    # An edit or a reaction aimed at another outbox row whose event id is known only once sent.
    relates_to_outbox_id: Mapped[int | None] = mapped_column(BigId)
    relation: Mapped[str | None] = mapped_column(String(32))
    # A logical name (e.g. "card:A12") so that services can find the event id of what they sent.
    ref: Mapped[str | None] = mapped_column(String(128), index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    event_id: Mapped[str | None] = mapped_column(String(255), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    failed: Mapped[bool] = mapped_column(default=False)
    # URGENT (alerts, orders, nags) is sent before the rest when a backlog builds up.
    priority: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    # The person whose action (or whose task, order…) caused the row: told if it cannot be sent.
    caused_by: Mapped[str | None] = mapped_column(String(255))
    # The outbox row of a room the relay creates (event_type outbox.CREATE_ROOM): this row waits
    # until that room exists; with neither room_id nor to_user it is sent in that room. Or of
    # another action (records.outbox_actions): this row waits until it is done.
    room_ref: Mapped[int | None] = mapped_column(BigId)

    __table_args__ = (Index("ix_outbox_pending", "sent_at", "failed", "id"),)

    @property
    def txn_id(self) -> str:
        return f"zhiban-{self.id}"


class HandledEvent(Base):
    """The inbound ledger: an event id is recorded in the same transaction as its effects."""

    __tablename__ = "handled_events"

    event_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    room_id: Mapped[str] = mapped_column(String(255))
    handled_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Timer(Base):
    """Something due at a time: a reminder, an escalation, a report clock.

    Redis and rq only carry timers to workers; this row is the copy that counts.
    """

    __tablename__ = "timers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(64))
    key: Mapped[str | None] = mapped_column(String(191), unique=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The claim round (or the run) that holds the timer: a job runs only what its token still holds.
    claim_token: Mapped[str | None] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_timers_due", "status", "due_at"),)


class KeyValue(Base):
    """Small named values the bot keeps: the sync token, the bot's DM rooms."""

    __tablename__ = "kv"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Lease(Base):
    """Who holds a singleton role (the active bot for an account) and until when."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    holder: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WizardState(Base):
    """Where one person stands in a step-by-step flow (a wizard), written with the turn that moved it.

    Keyed by the room, user and thread (escaped and joined); a flow left alone until
    `expires_at` is forgotten, as if it had never started.
    """

    __tablename__ = "fsm_states"

    key: Mapped[str] = mapped_column(String(2048), primary_key=True)  # three escaped Matrix ids
    state: Mapped[str | None] = mapped_column(String(255))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class BoardActionKey(Base):
    """An action taken from the board, by its idempotency key: a repeat answers with `outcome`
    (records.board_actions)."""

    __tablename__ = "board_actions"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_board_actions_user_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(255))
    key: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    ref: Mapped[str] = mapped_column(String(32))
    status: Mapped[int] = mapped_column(SmallInteger)
    outcome: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
