"""Timing rules of one approval, fixed when it starts and kept on its row.

Storing the rules with the approval means a config change never alters the promises made to
an approval already under way: its timers read them from the row, not from the settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import timedelta

from pydantic import TypeAdapter

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
    # Names of the binding steps (签发 …): approving them waits for a confirmation on the
    # phone (records.stepup), fixed at the start like the rest.
    confirm_steps: tuple[str, ...] = ()

    @property
    def remind_after(self) -> timedelta:
        return timedelta(minutes=self.remind_after_minutes)

    @property
    def nudge_interval(self) -> timedelta:
        return timedelta(minutes=self.nudge_interval_minutes)

    @property
    def stuck_after(self) -> timedelta:
        return timedelta(hours=self.stuck_after_hours)

    # As stored on the approval's row (a JSON column).
    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, object] | None) -> ApprovalPolicy:
        """Read back from the row; a field the row lacks (stored before it existed) takes its
        default, an unknown one is ignored, and the JSON list of binding steps is a tuple again."""
        return _STORED.validate_python(dict(data or {}))

    def binding(self, step_name: str) -> bool:
        return bool(step_name) and step_name in self.confirm_steps


_STORED = TypeAdapter(ApprovalPolicy)

SIGN_OFF_TEMPLATE = "发文"
SIGN_OFF_STEP = "签发"


def confirm_steps(settings: Settings, template: str | None) -> tuple[str, ...]:
    """The binding steps of a template: those marked confirm = true, and 签发 of 发文 while
    stepup.sign_off is on. A chain typed in chat names no steps, so it binds none."""
    if template is None:
        return ()
    names = [step.name for step in settings.approvals.templates.get(template, []) if step.confirm]
    if settings.stepup.sign_off and template == SIGN_OFF_TEMPLATE:
        names.append(SIGN_OFF_STEP)
    return tuple(dict.fromkeys(names))


def policy_from_settings(settings: Settings, template: str | None = None) -> ApprovalPolicy:
    """The rules a new approval is given, from the office's settings (records.config)."""
    section = settings.approvals
    return ApprovalPolicy(
        remind_after_minutes=section.remind_after_minutes,
        remind_max=section.remind_max,
        nudge_interval_minutes=section.nudge_interval_minutes,
        stuck_after_hours=section.stuck_after_hours,
        default_lang=settings.default_lang,
        default_tz=settings.default_tz,
        confirm_steps=confirm_steps(settings, template),
    )
