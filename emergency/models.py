"""Tables of the emergency feature: the duty roster and log, incidents, orders and reports.

Times are stored in UTC. Ids are integers shown with a letter: E5 (incident), O9 (order),
H3 (handover), L7 (duty-log entry).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from records.db import Base, UTCDateTime


class Shift(Base):
    """One duty shift: a 带班领导 and the 值班员 on duty from `starts_at` to `ends_at`."""

    __tablename__ = "emergency_shifts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    leader: Mapped[str | None] = mapped_column(String(255))
    officers: Mapped[list[str]] = mapped_column(JSON, default=list)
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_emergency_shifts_span", "starts_at", "ends_at"),)

    @property
    def people(self) -> list[str]:
        return [p for p in [self.leader, *(self.officers or [])] if p]


class Handover(Base):
    """A 交接班 note from the outgoing shift, acknowledged (✅) by the incoming one."""

    __tablename__ = "emergency_handovers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    from_user: Mapped[str] = mapped_column(String(255))
    notes: Mapped[str] = mapped_column(Text)
    room_id: Mapped[str] = mapped_column(String(255))
    # Who should acknowledge: the people of the next shift at the time of handing over.
    to_users: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acked_by: Mapped[str | None] = mapped_column(String(255))
    acked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LogEntry(Base):
    """One line of the duty log (值班记录): an incoming report and what was done with it."""

    __tablename__ = "emergency_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    source: Mapped[str | None] = mapped_column(String(255))
    reporter: Mapped[str | None] = mapped_column(String(255))
    contact: Mapped[str | None] = mapped_column(String(255))
    content: Mapped[str] = mapped_column(Text)
    told: Mapped[list[str]] = mapped_column(JSON, default=list)
    recorded_by: Mapped[str] = mapped_column(String(255))
    incident_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Incident(Base):
    """A declared emergency, its room, its people and the state of its report clock."""

    __tablename__ = "emergency_incidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    grade: Mapped[int] = mapped_column(Integer)  # 1 = Ⅰ (most severe) … 4 = Ⅳ
    category: Mapped[str | None] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), default="open")
    room_id: Mapped[str | None] = mapped_column(String(255), index=True)
    lang: Mapped[str] = mapped_column(String(8), default="zh")
    tz: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    declared_by: Mapped[str] = mapped_column(String(255))
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Role name → user ids: commander, deputy, liaison, recorder, duty_leader …
    roles: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)
    members: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The clock parameters are copied from the settings at declaration (and on escalation), so
    # that the worker, which only has the database, runs the same clock the bot announced.
    first_minutes: Mapped[int] = mapped_column(Integer)
    update_minutes: Mapped[int] = mapped_column(Integer)
    remind_minutes: Mapped[int] = mapped_column(Integer)
    ack_minutes: Mapped[int] = mapped_column(Integer)
    nag_escalate_after: Mapped[int] = mapped_column(Integer)
    nag_max: Mapped[int] = mapped_column(Integer)
    next_report: Mapped[str | None] = mapped_column(String(16))  # "first" | "update" | None when final
    next_report_due: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updates_filed: Mapped[int] = mapped_column(Integer, default=0)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[str | None] = mapped_column(String(255))
    final_markdown: Mapped[str | None] = mapped_column(Text)

    # The board reads open incidents by grade and those declared overnight.
    __table_args__ = (
        Index("ix_emergency_incidents_status_grade", "status", "grade"),
        Index("ix_emergency_incidents_declared", "declared_at"),
    )

    @property
    def code(self) -> str:
        return f"E{self.id}"


class TimelineEntry(Base):
    """One line of an incident's timeline, in the order things happened."""

    __tablename__ = "emergency_timeline"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("emergency_incidents.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(255))
    text: Mapped[str] = mapped_column(Text)
    event_id: Mapped[str | None] = mapped_column(String(255))


class Order(Base):
    """An instruction (指令) to named people, or a broadcast alert (incident_id None, kind "alert")."""

    __tablename__ = "emergency_orders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16), default="order")
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("emergency_incidents.id"), index=True)
    room_id: Mapped[str] = mapped_column(String(255))
    issued_by: Mapped[str] = mapped_column(String(255))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lang: Mapped[str] = mapped_column(String(8), default="zh")

    @property
    def code(self) -> str:
        return f"O{self.id}"


class Receipt(Base):
    """Where one recipient stands with one order: acknowledged, done, how often nagged."""

    __tablename__ = "emergency_receipts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("emergency_orders.id"), index=True)
    user_id: Mapped[str] = mapped_column(String(255))
    acked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The recipient's read receipt on the order's DM (or a later message there), or their ✅.
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_note: Mapped[str | None] = mapped_column(Text)
    nags: Mapped[int] = mapped_column(Integer, default=0)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # The board reads the receipts nobody acknowledged yet, and a person's own.
    __table_args__ = (
        Index("ix_emergency_receipts_unacked", "acked_at", "order_id"),
        Index("ix_emergency_receipts_user", "user_id", "acked_at"),
    )


class AlertAck(Base):
    """One person alerted by DM that an incident was declared (or its class set), and their ✅."""

    __tablename__ = "emergency_alert_acks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("emergency_incidents.id"), index=True)
    user_id: Mapped[str] = mapped_column(String(255))
    alerted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("incident_id", "user_id", name="uq_emergency_alert_acks_person"),)


class Report(Base):
    """A 首报 / 续报 / 终报 as filed, with its deadline and whether it came late (迟报)."""

    __tablename__ = "emergency_reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("emergency_incidents.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # first | update | final
    number: Mapped[int] = mapped_column(Integer, default=0)  # 续报 number, 0 otherwise
    fields: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    filed_by: Mapped[str] = mapped_column(String(255))
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    late: Mapped[bool] = mapped_column(default=False)
