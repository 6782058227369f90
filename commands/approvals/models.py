"""Tables of approvals (公文审批).

An approval has ordered steps; each step has members (signers) who decide. Approval 12 is shown
as "A12". Signer rows hold the decision of the current round; every action, including those a
return (退回) has since reset, stays in the history table, which is the record exported for
archiving (归档) and the source of the opinions (意见) shown on the card.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from records.db import Base, UTCDateTime
from records.models import BigId

PENDING = "pending"
APPROVED = "approved"
REJECTED = "rejected"
WITHDRAWN = "withdrawn"
RETURNED = "returned"  # sent back to the drafter; the requester may resubmit
FINAL = (APPROVED, REJECTED, WITHDRAWN)

# Step states
WAITING = "waiting"
ACTIVE = "active"
DONE = "done"

# Signer decisions
APPROVE = "approve"
REJECT = "reject"
TRANSFER = "transfer"  # handed to someone else (转交); the new signer decides instead
DRAFTED = "drafted"  # the requester's own 拟稿 step


class Approval(Base):
    __tablename__ = "approvals_approvals"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(Text)
    requester: Mapped[str] = mapped_column(String(255), index=True)
    room_id: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    body: Mapped[str] = mapped_column(Text, default="")
    # Files posted in the thread: [{"name", "url", "mimetype", "by", "at"}].
    attachments: Mapped[list[dict[str, str | None]]] = mapped_column(JSON, default=list)
    template: Mapped[str | None] = mapped_column(String(64))
    cc: Mapped[list[str]] = mapped_column(JSON, default=list)
    # GB/T 9704 header fields for the exported record.
    urgency: Mapped[str | None] = mapped_column(String(32))  # 紧急程度
    secrecy: Mapped[str | None] = mapped_column(String(32))  # 密级
    doc_number: Mapped[str | None] = mapped_column(String(128))  # 发文字号
    # The language and zone the room card is written in (the requester's at the start).
    lang: Mapped[str] = mapped_column(String(8), default="zh")
    tz: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    # Reminder timing fixed at the start, so that workers need no settings.
    policy: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    # Bumped by every change; part of nothing but handy to see that a card is current.
    version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_nudge_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_approvals_approvals_status", "status"),)

    @property
    def code(self) -> str:
        return f"A{self.id}"

    @property
    def is_final(self) -> bool:
        return self.status in FINAL


class ApprovalStep(Base):
    __tablename__ = "approvals_steps"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    approval_id: Mapped[int] = mapped_column(BigId, index=True)
    position: Mapped[int] = mapped_column(Integer)
    mode: Mapped[str] = mapped_column(String(8))  # "all" (会签) or "any" (或签)
    name: Mapped[str] = mapped_column(String(64), default="")
    drafter: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16), default=WAITING)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # The board reads the active steps that have waited longest (stuck approvals).
    __table_args__ = (Index("ix_approvals_steps_status_started", "status", "started_at"),)


class ApprovalSigner(Base):
    __tablename__ = "approvals_signers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    approval_id: Mapped[int] = mapped_column(BigId, index=True)
    step_id: Mapped[int] = mapped_column(BigId, index=True)
    user_id: Mapped[str] = mapped_column(String(255), index=True)
    decision: Mapped[str | None] = mapped_column(String(16))
    opinion: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Who put this person here when it was not the original chain (转交 or 加签).
    added_by: Mapped[str | None] = mapped_column(String(255))
    added_how: Mapped[str | None] = mapped_column(String(16))
    transferred_to: Mapped[str | None] = mapped_column(String(255))


class ApprovalHistory(Base):
    """Every action on an approval, in order: the paper trail (留痕)."""

    __tablename__ = "approvals_history"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    approval_id: Mapped[int] = mapped_column(BigId, index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(32))
    step_name: Mapped[str] = mapped_column(String(64), default="")
    target: Mapped[str | None] = mapped_column(String(255))
    opinion: Mapped[str] = mapped_column(Text, default="")


@dataclass
class Step:
    """A step with its signers, as read for a decision or a card (service.queries.load_steps).

    It lives with the tables, not with the service, so that render reads it without
    importing the service that renders through it.
    """

    row: ApprovalStep
    signers: list[ApprovalSigner] = field(default_factory=list)

    @property
    def undecided(self) -> list[ApprovalSigner]:
        return [s for s in self.signers if s.decision is None]

    @property
    def deciders(self) -> list[ApprovalSigner]:
        """Signers who count: those who handed their turn on (转交) no longer do."""
        return [s for s in self.signers if s.decision != TRANSFER]

    @property
    def label(self) -> str:
        """The step as the history and the audit name it: its name, else "#2" (render.label_in
        reads "#2" in the reader's language)."""
        return self.row.name or f"#{self.row.position + 1}"
