"""Tables of meetings (会议): the meeting, who is invited, the minutes and the action items.

Meeting 3 is shown as "M3". Times are stored in UTC; the organizer's language and zone are
kept with the meeting so that timers (which have no chat event at hand) can render the room
card and the notices of people who never set their own preferences.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from records.db import Base, UTCDateTime
from records.models import BigId

# Response of an attendee: no answer yet, coming, on leave (请假), or sending a deputy (代会).
PENDING, ATTEND, LEAVE, DEPUTY = "pending", "attend", "leave", "deputy"
RESPONSES = (PENDING, ATTEND, LEAVE, DEPUTY)

# Meeting status: scheduled (upcoming or running), ended (minutes posted) or cancelled.
SCHEDULED, ENDED, CANCELLED = "scheduled", "ended", "cancelled"


class Meeting(Base):
    __tablename__ = "meetings_meetings"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(Text)
    organizer: Mapped[str] = mapped_column(String(255), index=True)
    room_id: Mapped[str] = mapped_column(String(255), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    place: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default=SCHEDULED)
    # Set when the sign-in window opens (not before: nobody can know it in advance).
    checkin_code: Mapped[str | None] = mapped_column(String(16))
    # Bumped on every change of time, place or status: the .ics SEQUENCE.
    revision: Mapped[int] = mapped_column(default=0)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(8), default="zh")
    tz: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_meetings_meetings_status_start", "status", "starts_at"),)

    @property
    def code(self) -> str:
        return f"M{self.id}"


class Attendee(Base):
    """One invited person; a deputy (代会人) is an attendee of their own, pointing at whom they replace."""

    __tablename__ = "meetings_attendees"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings_meetings.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(String(255), index=True)
    response: Mapped[str] = mapped_column(String(16), default=PENDING)
    reason: Mapped[str | None] = mapped_column(Text)
    deputy: Mapped[str | None] = mapped_column(String(255))
    deputy_for: Mapped[str | None] = mapped_column(String(255))
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("meeting_id", "user_id", name="uq_meetings_attendees_person"),)

    @property
    def expected(self) -> bool:
        """Expected in the room: not on leave and not replaced by a deputy."""
        return self.response in (PENDING, ATTEND)


class MinuteLine(Base):
    """One line of the minutes (纪要): a message in the meeting thread, a command, or a transcript."""

    __tablename__ = "meetings_minutes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings_meetings.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(255))
    text: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16), default="text")
    event_id: Mapped[str | None] = mapped_column(String(255))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class ActionItem(Base):
    """A decision to act, made in the meeting; `task_id` links the supervised task (督办) made of it."""

    __tablename__ = "meetings_actions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings_meetings.id", ondelete="CASCADE"), index=True)
    assignee: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    task_id: Mapped[int | None] = mapped_column(BigId)
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
