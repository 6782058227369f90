"""The clock and escalation parameters of the emergency feature.

Services take a Policy, never the settings; `Policy.from_settings` builds it from the
`[emergency]` section (records.config). A grade missing from a partial configuration falls
back to the built-in default for that grade.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from records.config import EmergencySettings

GRADES = (1, 2, 3, 4)
CATEGORIES = ("自然灾害", "事故灾难", "公共卫生", "社会安全")

DEFAULT_FIRST = {1: 30, 2: 30, 3: 60, 4: 60}
DEFAULT_UPDATE = {1: 120, 2: 120, 3: 240, 4: 240}
DEFAULT_ACK = {1: 5, 2: 10, 3: 15, 4: 30}


@dataclass(frozen=True)
class ResponderRule:
    classes: tuple[str, ...] = ()
    grades: tuple[int, ...] = GRADES
    users: tuple[str, ...] = ()

    def applies(self, category: str | None, grade: int) -> bool:
        return grade in self.grades and (not self.classes or (category or "") in self.classes)


@dataclass(frozen=True)
class Policy:
    first_minutes: Mapping[int, int] = field(default_factory=lambda: dict(DEFAULT_FIRST))
    update_minutes: Mapping[int, int] = field(default_factory=lambda: dict(DEFAULT_UPDATE))
    remind_before_minutes: int = 10
    ack_minutes: Mapping[int, int] = field(default_factory=lambda: dict(DEFAULT_ACK))
    nag_escalate_after: int = 2
    nag_max: int = 6
    responders: tuple[ResponderRule, ...] = ()
    roster_tz: str = "Asia/Shanghai"
    shift_start: str = "08:30"

    def first_for(self, grade: int) -> int:
        return int(self.first_minutes.get(grade, DEFAULT_FIRST[grade]))

    def update_for(self, grade: int) -> int:
        return int(self.update_minutes.get(grade, DEFAULT_UPDATE[grade]))

    def ack_for(self, grade: int) -> int:
        return int(self.ack_minutes.get(grade, DEFAULT_ACK[grade]))

    def responders_for(self, category: str | None, grade: int) -> list[str]:
        found: list[str] = []
        for rule in self.responders:
            if rule.applies(category, grade):
                found.extend(rule.users)
        return list(dict.fromkeys(found))

    @classmethod
    def from_settings(cls, section: EmergencySettings) -> Policy:
        """Build from the config's emergency section (records.config, the ground floor)."""
        return cls(
            first_minutes=dict(section.first_report_minutes),
            update_minutes=dict(section.update_report_minutes),
            remind_before_minutes=section.remind_before_minutes,
            ack_minutes=dict(section.order_ack_minutes),
            nag_escalate_after=section.nag_escalate_after,
            nag_max=section.nag_max,
            responders=tuple(
                ResponderRule(tuple(r.classes), tuple(r.grades), tuple(r.users)) for r in section.responders
            ),
            roster_tz=section.roster_tz,
            shift_start=section.shift_start,
        )


ROMAN = {1: "Ⅰ", 2: "Ⅱ", 3: "Ⅲ", 4: "Ⅳ"}
_MAX_WORD = 32
_GRADE_WORDS = {
    "1": 1, "2": 2, "3": 3, "4": 4,
    "Ⅰ": 1, "Ⅱ": 2, "Ⅲ": 3, "Ⅳ": 4,
    "I": 1, "II": 2, "III": 3, "IV": 4,
    "一": 1, "二": 2, "三": 3, "四": 4,
    "一级": 1, "二级": 2, "三级": 3, "四级": 4,
    "Ⅰ级": 1, "Ⅱ级": 2, "Ⅲ级": 3, "Ⅳ级": 4,
    "1级": 1, "2级": 2, "3级": 3, "4级": 4,
    "特别重大": 1, "重大": 2, "较大": 3, "一般": 4,
}  # fmt: skip


def parse_grade(word: str) -> int | None:
    """'Ⅱ', 'II', '2', '二级', '重大' → 2; None when it is not a grade."""
    if len(word) > _MAX_WORD:  # no grade or category is longer: skip the work on long text
        return None
    return _GRADE_WORDS.get(word.strip().upper() if word.isascii() else word.strip())


_CATEGORY_WORDS = {
    "自然灾害": "自然灾害", "natural": "自然灾害", "disaster": "自然灾害",
    "事故灾难": "事故灾难", "accident": "事故灾难",
    "公共卫生": "公共卫生", "health": "公共卫生",
    "社会安全": "社会安全", "security": "社会安全",
}  # fmt: skip


def parse_category(word: str) -> str | None:
    if len(word) > _MAX_WORD:
        return None
    return _CATEGORY_WORDS.get(word.strip().lower())
