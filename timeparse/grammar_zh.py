"""The Chinese time grammar: 明天下午3点, 下周一上午, 周五前, 3天后, 11月30日 14:00 …

It runs on normalised text (digits already Arabic, see normalize.py) and reads
the parts of an expression in their natural order -- relative offset, or day /
weekday / date, then part of day, then clock time, then a deadline word -- each
part optional. It only fills a ``Spec``; resolve.py decides what it means.

dateparser is not used for Chinese: its zh data lacks 下午/晚上, 下周, 本周,
前 and Chinese numerals, so it returns nothing (or the wrong day) for most of
what people type.
"""

from __future__ import annotations

import re
from datetime import timedelta

from .spec import GrammarMatch, Period, Spec, WeekRef, amount, count

_LEAD = re.compile(r"\s*(?:在|于|於)?\s*")
_SEP = re.compile(r"\s*")

_WORKDAYS = re.compile(r"(\d+)\s*个?\s*工作日\s*(以后|之后|后|以内|之内|内)")
_RELATIVE = re.compile(
    r"(?:(\d+(?:\.\d+)?)\s*个?\s*(半)?|(半)\s*个?)\s*"
    r"(秒钟|秒|分钟|分|小时|钟头|天|日|周|星期|礼拜|月|年)\s*"
    r"(以后|之后|后|以内|之内|内)"
)
_DAYS: dict[str, tuple[int, Period | None]] = {
    "大后天": (3, None),
    "大後天": (3, None),
    "今天": (0, None),
    "今日": (0, None),
    "明天": (1, None),
    "明日": (1, None),
    "后天": (2, None),
    "後天": (2, None),
    "今晚": (0, Period.EVENING),
    "今夜": (0, Period.EVENING),
    "明晚": (1, Period.EVENING),
    "明夜": (1, Period.EVENING),
    "今早": (0, Period.MORNING),
    "今晨": (0, Period.MORNING),
    "明早": (1, Period.MORNING),
    "明晨": (1, Period.MORNING),
    # The past: parsed so that callers can say "that time has passed" rather than "not understood".
    "大前天": (-3, None),
    "前天": (-2, None),
    "昨天": (-1, None),
    "昨日": (-1, None),
    "昨晚": (-1, Period.EVENING),
    "昨夜": (-1, Period.EVENING),
    "昨早": (-1, Period.MORNING),
    "昨晨": (-1, Period.MORNING),
}
_DAY = re.compile("|".join(sorted(_DAYS, key=len, reverse=True)))
_WEEKDAY_CHARS = {"1": 0, "2": 1, "3": 2, "4": 3, "5": 4, "6": 5, "7": 6,
                  "一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}  # fmt: skip
_WEEKDAY = re.compile(r"(下下个?|下个?|上上个?|上个?|本|这个?)?\s*(?:周|星期|礼拜|禮拜)([1-7一二三四五六日天])")
_WEEK_REFS = {
    "下下": WeekRef.WEEK_AFTER,
    "下": WeekRef.NEXT_WEEK,
    "上上": WeekRef.WEEK_BEFORE,
    "上": WeekRef.LAST_WEEK,
    "本": WeekRef.THIS_WEEK,
    "这": WeekRef.THIS_WEEK,
}
_DATE_CN = re.compile(r"(?:(\d{4})\s*年\s*)?(\d{1,2})\s*月\s*(\d{1,2})\s*(?:日|号|號)?")
_DATE_ISO = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?![\d])")
_DATE_MD = re.compile(r"(\d{1,2})[-/](\d{1,2})(?![\d/-])")
_PERIOD_END = re.compile(r"(?:(本|这个?|下个?)\s*)?月\s*(?:底|末)|(?:(今|明)\s*)?年\s*(?:底|末)")
_DAY_OF_MONTH = re.compile(r"(\d{1,2})\s*(?:日|号|號)")
# "11月30日（周一）": a weekday written after a date only repeats it.
_WEEKDAY_ECHO = re.compile(r"\s*[(（]?\s*(?:周|星期|礼拜)[1-7一二三四五六日天]\s*[)）]?")
_PERIODS: dict[str, Period] = {
    "凌晨": Period.EARLY,
    "清晨": Period.MORNING,
    "早上": Period.MORNING,
    "早晨": Period.MORNING,
    "一早": Period.MORNING,
    "上午": Period.FORENOON,
    "中午": Period.NOON,
    "午后": Period.AFTERNOON,
    "下午": Period.AFTERNOON,
    "傍晚": Period.DUSK,
    "晚上": Period.EVENING,
    "晚间": Period.EVENING,
    "夜里": Period.EVENING,
    "夜晚": Period.EVENING,
    "早": Period.MORNING,
    "晚": Period.EVENING,
}
_PERIOD = re.compile("|".join(sorted(_PERIODS, key=len, reverse=True)))
_CLOCK = re.compile(
    r"(\d{1,2})\s*(?:"
    r"[点點时時](?:\s*([13])\s*刻|\s*(\d{1,2})\s*分?|\s*(半))?(?:\s*(?:钟|整))?"
    r"|:(\d{2})(?::\d{2})?(?!\d))"
)
_END_OF_DAY = re.compile(r"(?:下班|收工)\s*(?:之前|以前|前)?")
_DEADLINE = re.compile(r"(?:之前|以前|前|为止)")

_EXACT_UNITS = {"秒钟": 1, "秒": 1, "分钟": 60, "分": 60, "小时": 3600, "钟头": 3600}
_DAY_UNITS = {"天": 1, "日": 1, "周": 7, "星期": 7, "礼拜": 7}


def _relative(m: re.Match[str], spec: Spec) -> bool:
    """Fill a relative offset; True when it is exact (nothing may follow it)."""
    number, half, only_half, unit, suffix = m.groups()
    value = (amount(number) if number else 0.0) + (0.5 if (half or only_half) else 0.0)
    within = "内" in suffix
    if unit in _EXACT_UNITS:
        spec.delta = timedelta(seconds=value * _EXACT_UNITS[unit])
        return True
    if unit in _DAY_UNITS:
        days = value * _DAY_UNITS[unit]
        if not days.is_integer():  # 半天后, 1.5天后: an exact span of hours
            spec.delta = timedelta(days=days)
            return True
        spec.day_offset = int(days)
    else:  # 月 / 年
        months = value * (12 if unit == "年" else 1)
        if not months.is_integer():  # 半个月后: 15 days
            spec.day_offset = round(months * 30)
        else:
            spec.month_offset = int(months)
    spec.keep_clock = not within
    spec.deadline = within
    return False


def _date(s: str, pos: int, spec: Spec) -> int | None:
    """Match a day word, a weekday or a date at ``pos``; return the end or None."""
    if m := _DAY.match(s, pos):
        spec.day_offset, spec.period = _DAYS[m.group()]
        return m.end()
    if m := _WEEKDAY.match(s, pos):
        prefix = m.group(1) or ""
        spec.weekday = _WEEKDAY_CHARS[m.group(2)]
        spec.week_ref = next((ref for key, ref in _WEEK_REFS.items() if prefix.startswith(key)), WeekRef.UPCOMING)
        return m.end()
    if m := _PERIOD_END.match(s, pos):
        if "月" in m.group():
            spec.month_end = 1 if (m.group(1) or "").startswith("下") else 0
        else:
            spec.year_end = 1 if m.group(2) == "明" else 0
        spec.deadline = True
        return m.end()
    for pattern, has_year in ((_DATE_ISO, True), (_DATE_CN, True), (_DATE_MD, False)):
        if m := pattern.match(s, pos):
            groups = m.groups()
            if has_year:
                year, month, day = groups
                spec.year = int(year) if year else None
            else:
                month, day = groups
            spec.month, spec.day = int(month), int(day)
            end = m.end()
            if echo := _WEEKDAY_ECHO.match(s, end):
                end = echo.end()
            return end
    if m := _DAY_OF_MONTH.match(s, pos):
        spec.day = int(m.group(1))
        return m.end()
    return None


def _clock(s: str, pos: int, spec: Spec) -> int | None:
    m = _CLOCK.match(s, pos)
    if m is None:
        return None
    hour, quarter, minute, half, colon_minute = m.groups()
    spec.hour = int(hour)
    if colon_minute is not None:
        spec.minute = int(colon_minute)
        spec.clock_24h = hour.startswith("0") or int(hour) >= 13
    elif half:
        spec.minute = 30
    elif quarter:
        spec.minute = 15 * int(quarter)
    elif minute is not None:
        spec.minute = int(minute)
    return m.end()


def match(s: str, start: int = 0) -> GrammarMatch | None:
    """Match a Chinese time expression at ``start`` of the normalised text ``s``."""
    spec = Spec()
    pos = _LEAD.match(s, start).end()  # type: ignore[union-attr]  # matches the empty string
    end = pos
    exact = False
    if m := _WORKDAYS.match(s, pos):
        spec.working_days = count(m.group(1))
        spec.deadline = "内" in m.group(2)
        spec.keep_clock = not spec.deadline
        end = m.end()
    elif m := _RELATIVE.match(s, pos):
        exact = _relative(m, spec)
        end = m.end()
    elif (date_end := _date(s, pos, spec)) is not None:
        end = date_end
    if not exact:
        p = _SEP.match(s, end).end()  # type: ignore[union-attr]
        period_match = _PERIOD.match(s, p)
        if period_match:
            p = _SEP.match(s, period_match.end()).end()  # type: ignore[union-attr]
        clock_end = _clock(s, p, spec)
        if clock_end is not None:
            end = clock_end
            if period_match:
                spec.period = _PERIODS[period_match.group()]
        elif period_match and len(period_match.group()) > 1:
            # A lone 早/晚 is a period only before a clock time: 明天晚会 is a party.
            spec.period = _PERIODS[period_match.group()]
            end = period_match.end()
        p = _SEP.match(s, end).end()  # type: ignore[union-attr]
        if m := _END_OF_DAY.match(s, p):
            spec.end_of_day = True
            end = m.end()
        elif not spec.is_empty() and (m := _DEADLINE.match(s, p)):
            spec.deadline = True
            end = m.end()
    if spec.is_empty():
        return None
    return GrammarMatch(spec=spec, start=start, end=end)
