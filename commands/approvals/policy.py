"""Timing rules of one approval, fixed when it starts and kept on its row.

Timers run in workers without the settings at hand; storing the rules with the approval also
means a config change never alters the promises made to an approval already under way.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

from records.config import Settings


@dataclass(frozen=True)
class ApprovalPolicy:
    # A step that waits this long reminds its undecided approvers, up to `remind_max` times;
    # after the last reminder the requester is told that the step is stuck.
    remind_after_minutes: int = 240
    remind_max: int = 2
    # `!nudge` (催办) at most once per this many minutes per approval.
    nudge_interval_minutes: int = 10
    # A step waiting this long shows as stuck on the board of the leaders and admins who see it.
    stuck_after_hours: int = 24
    default_lang: str = "zh"
    default_tz: str = "Asia/Shanghai"

    @property
    def remind_after(self) -> timedelta:
        return timedelta(minutes=self.remind_after_minutes)

    @property
    def nudge_interval(self) -> timedelta:
        return timedelta(minutes=self.nudge_interval_minutes)

    @property
    def stuck_after(self) -> timedelta:
        return timedelta(hours=self.stuck_after_hours)

    # As stored on the approval's row (a JSON column, hence Any).
    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> ApprovalPolicy:
        known = {k: v for k, v in (data or {}).items() if k in cls.__dataclass_fields__}
        return cls(**known)


def policy_from_settings(settings: Settings) -> ApprovalPolicy:
    """The rules a new approval is given, from the office's settings (records.config)."""
    section = settings.approvals
    return ApprovalPolicy(
        remind_after_minutes=section.remind_after_minutes,
        remind_max=section.remind_max,
        nudge_interval_minutes=section.nudge_interval_minutes,
        stuck_after_hours=section.stuck_after_hours,
        default_lang=settings.default_lang,
        default_tz=settings.default_tz,
    )
