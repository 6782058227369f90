"""Tables of supervised tasks (督办) and reminders.

Ids are plain integers shown with a letter: reminder 12 is "R12", task 7 is "T7".
Everything time-related is stored in UTC; the zone a time was given in is kept beside it
so that recurring reminders stay on the user's wall clock.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from records.db import Base, UTCDateTime
from records.models import BigId


class Reminder(Base):
    """A personal or room reminder, possibly recurring, possibly an alarm that nags until ✅."""

    __tablename__ = "tasks_reminders"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(String(255), index=True)
    # "me": a direct message to the owner; "room": a post in `room_id` mentioning the owner.
    target: Mapped[str] = mapped_column(String(8))
    room_id: Mapped[str | None] = mapped_column(String(255))
    text: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    rule: Mapped[str | None] = mapped_column(String(255))
    tz: Mapped[str] = mapped_column(String(64))
    lang: Mapped[str] = mapped_column(String(8))
    alarm: Mapped[bool] = mapped_column(default=False)
    # An alarm that has fired and is waiting for someone's ✅.
    ringing: Mapped[bool] = mapped_column(default=False)
    subscribers: Mapped[list[str]] = mapped_column(JSON, default=list)
    # active → done (one-off, fired) | cancelled
    status: Mapped[str] = mapped_column(String(16), default="active")
    fired_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    @property
    def code(self) -> str:
        return f"R{self.id}"


class Task(Base):
    """A supervised task: assigned by someone, led by one person, helped by co-owners."""

    __tablename__ = "tasks_tasks"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(Text)
    assigner: Mapped[str] = mapped_column(String(255), index=True)
    lead: Mapped[str] = mapped_column(String(255), index=True)
    co_owners: Mapped[list[str]] = mapped_column(JSON, default=list)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Where the task came from: "M3" (a meeting), "A12" (an approval), "E5" (an incident), or free text.
    source: Mapped[str | None] = mapped_column(String(255))
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    # open → submitted (done, awaiting acceptance) → accepted; submitted → open on 退办.
    status: Mapped[str] = mapped_column(String(16), default="open")
    progress: Mapped[int] = mapped_column(Integer, default=0)
    room_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A pending extension request (延期申请), if any.
    ext_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ext_reason: Mapped[str | None] = mapped_column(Text)
    ext_by: Mapped[str | None] = mapped_column(String(255))

    __table_args__ = (Index("ix_tasks_tasks_status_due", "status", "due_at"),)

    @property
    def code(self) -> str:
        return f"T{self.id}"

    @property
    def owners(self) -> list[str]:
        """The lead and the co-owners: the people who do the work."""
        return [self.lead, *(u for u in self.co_owners or [] if u != self.lead)]

    @property
    def is_resolved(self) -> bool:
        return self.status in ("accepted", "cancelled")


class TaskNote(Base):
    """One step in a task's history: progress, completion, 退办, 办结, extension decisions."""

    __tablename__ = "tasks_notes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    task_id: Mapped[int] = mapped_column(BigId, index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    author: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(32))
    percent: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text, default="")
