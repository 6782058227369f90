"""The office's timing rules for tasks and reminders, as the services and timers see them.

Timer handlers run in workers without the settings at hand, and other features call
`create_task` without knowing them either; so the bot stores the configured policy in the
database (records.kv) when it starts, and everything here reads it from there, falling back
to the defaults.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from records import kv
from records.config import Settings

POLICY_KEY = "tasks.policy"


@dataclass(frozen=True)
class TaskPolicy:
    remind_before_minutes: tuple[int, ...] = (24 * 60, 120)
    escalate_after_minutes: int = 120
    overdue_repeat_hours: int = 24
    digest_time: str = "09:00"
    alarm_repeat_minutes: int = 5
    # A deadline given as a bare date means this local time that day (the end of the working day).
    end_of_day: str = "18:00"
    default_lang: str = "zh"
    default_tz: str = "Asia/Shanghai"

    @property
    def remind_before(self) -> list[timedelta]:
        return [timedelta(minutes=m) for m in sorted(set(self.remind_before_minutes), reverse=True) if m > 0]

    @property
    def escalate_after(self) -> timedelta:
        return timedelta(minutes=self.escalate_after_minutes)

    @property
    def overdue_repeat(self) -> timedelta:
        return timedelta(hours=self.overdue_repeat_hours)

    @property
    def alarm_repeat(self) -> timedelta:
        return timedelta(minutes=self.alarm_repeat_minutes)

    @property
    def end_of_day_time(self) -> time:
        hour, minute = (int(part) for part in self.end_of_day.split(":"))
        return time(hour, minute)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> TaskPolicy:
        data = json.loads(text)
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        if "remind_before_minutes" in known:
            known["remind_before_minutes"] = tuple(int(m) for m in known["remind_before_minutes"])
        return cls(**known)


def policy_from_settings(settings: Settings) -> TaskPolicy:
    """Build the policy from the office's settings (records.config, on the ground floor)."""
    tasks = settings.tasks
    return TaskPolicy(
        remind_before_minutes=tuple(tasks.remind_before_minutes),
        escalate_after_minutes=tasks.escalate_after_minutes,
        overdue_repeat_hours=tasks.overdue_repeat_hours,
        digest_time=tasks.digest_time,
        alarm_repeat_minutes=tasks.alarm_repeat_minutes,
        end_of_day=tasks.end_of_day,
        default_lang=settings.default_lang,
        default_tz=settings.default_tz,
    )


async def load_policy(session: AsyncSession) -> TaskPolicy:
    stored = await kv.get(session, POLICY_KEY)
    return TaskPolicy() if stored is None else TaskPolicy.from_json(stored)


async def save_policy(session: AsyncSession, policy: TaskPolicy) -> None:
    if await kv.get(session, POLICY_KEY) != policy.to_json():
        await kv.put(session, POLICY_KEY, policy.to_json())
