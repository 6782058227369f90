"""The office's meeting rules (places, reminders, sign-in window) as the service sees them.

Handlers build it from the settings and pass it in; timers need none of it, because what they
depend on (the reminder times, the sign-in window) is decided when they are scheduled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from records.config import Settings
from records.errors import DomainError


@dataclass(frozen=True)
class MeetingPolicy:
    places: dict[str, int] = field(default_factory=dict)
    remind_before_minutes: tuple[int, ...] = (24 * 60, 60)
    checkin_opens_before_minutes: int = 15
    checkin_closes_after_minutes: int = 30
    missing_report_after_minutes: int = 10
    default_duration_minutes: int = 60

    @classmethod
    def from_settings(cls, settings: Settings) -> MeetingPolicy:
        section = settings.meetings
        return cls(
            places=dict(section.places),
            remind_before_minutes=tuple(section.remind_before_minutes),
            checkin_opens_before_minutes=section.checkin_opens_before_minutes,
            checkin_closes_after_minutes=section.checkin_closes_after_minutes,
            missing_report_after_minutes=section.missing_report_after_minutes,
            default_duration_minutes=section.default_duration_minutes,
        )

    @property
    def remind_before(self) -> list[int]:
        return sorted({m for m in self.remind_before_minutes if m > 0}, reverse=True)

    @property
    def checkin_opens(self) -> timedelta:
        return timedelta(minutes=self.checkin_opens_before_minutes)

    @property
    def checkin_closes(self) -> timedelta:
        return timedelta(minutes=self.checkin_closes_after_minutes)

    @property
    def missing_after(self) -> timedelta:
        return timedelta(minutes=self.missing_report_after_minutes)

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.default_duration_minutes)

    def resolve_place(self, text: str | None) -> str | None:
        """The configured place the user meant; any text when no places are configured.

        Exact (case-insensitive) first, then a unique partial match ("三楼" → "三楼会议室").
        """
        if text is None or not text.strip():
            return None
        wanted = text.strip()
        if not self.places:
            return wanted[:255]
        by_lower = {name.lower(): name for name in self.places}
        if wanted.lower() in by_lower:
            return by_lower[wanted.lower()]
        partial = [name for name in self.places if wanted.lower() in name.lower()]
        if len(partial) == 1:
            return partial[0]
        raise DomainError("meeting.unknown_place", place=wanted[:40], known="、".join(self.places))

    def capacity(self, place: str | None) -> int | None:
        return None if place is None else self.places.get(place)
