"""Tables of the push feature: subscriptions, notices, one delivery row per push, sign-in links,
and the sessions of signed-in browsers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from records.db import Base, UTCDateTime
from records.models import BigId


class PushSubscription(Base):
    """A browser's Web Push subscription, owned by the person who signed that browser in.

    The endpoint is unique: a browser that subscribes again (or is signed in by someone
    else, with the same keys) takes the row over instead of receiving every push twice.
    """

    __tablename__ = "push_subscriptions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(255), index=True)
    endpoint: Mapped[str] = mapped_column(String(1024), unique=True)
    p256dh: Mapped[str] = mapped_column(String(128))
    auth: Mapped[str] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_ok_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Notice(Base):
    """What was announced: kept once, whatever the number of recipients and devices.

    `title` and `body` map a language ("zh", "en", or "*" for any) to text, so that each
    recipient's push is rendered in their own language by the worker.
    """

    __tablename__ = "push_notices"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[dict[str, Any]] = mapped_column(JSON)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    sensitive: Mapped[bool] = mapped_column(default=False)
    topic: Mapped[str | None] = mapped_column(String(128))
    url: Mapped[str | None] = mapped_column(String(1024))
    ttl: Mapped[int] = mapped_column(Integer)
    urgency: Mapped[str] = mapped_column(String(16))
    # A logical name of what the notice is about (e.g. "approval:A12"), for receipts.
    ref: Mapped[str | None] = mapped_column(String(128), index=True)
    # The DM fallback policy the flow chose: "auto", "always" or "never" (see NoticeSpec).
    dm: Mapped[str] = mapped_column(String(8), default="auto")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Delivery(Base):
    """One push to one subscription (channel "push"), the chat DM fallback (channel "dm"),
    or a record that the caller told a person without a device in chat (channel "chat").

    Status: queued → delivered | gone | failed | rejected | too_large | invalid | expired,
    with retrying in between; skipped_quiet when quiet hours held the push back; dm when
    the fallback message was written to the outbox; chat for the channel of that name.
    """

    __tablename__ = "push_deliveries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    notice_id: Mapped[int] = mapped_column(BigId, ForeignKey("push_notices.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(255))
    subscription_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("push_subscriptions.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(String(8), default="push")
    lang: Mapped[str] = mapped_column(String(8), default="zh")
    status: Mapped[str] = mapped_column(String(16))
    status_code: Mapped[int | None] = mapped_column(Integer)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_push_deliveries_notice", "notice_id", "status"),
        Index("ix_push_deliveries_user", "user_id", "id"),
    )


class SignInLink(Base):
    """A one-time sign-in link: only the token's hash is stored, so a database leak opens nothing."""

    __tablename__ = "push_signin_links"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebSession(Base):
    """A signed-in browser. The cookie carries a secret whose hash names this row, so that
    sign-out, "sign out everywhere" and an admin's revoke end the session at once (the row
    is deleted), and a database reader learns nothing that signs anyone in."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = mapped_column(String(255), index=True)
    user_agent: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
