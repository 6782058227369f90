"""User-facing texts of the time parser (zh-CN default, en).

Error messages end with a few examples, because a user who typed a time we did
not understand needs to see what we *do* understand, not an apology.
"""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "time.unparsed": {
        "zh": "没能理解时间“{text}”。例如：明天下午3点、3天后、周五前、下周一上午、in 30 minutes",
        "en": (
            "Could not understand the time “{text}”. "
            "Try for example: tomorrow 3pm, in 30 minutes, friday, next monday 9am, 明天下午3点"
        ),
    },
    "time.empty": {
        "zh": "缺少时间。例如：明天下午3点、3天后、周五前、in 30 minutes",
        "en": "A time is missing. For example: tomorrow 3pm, in 30 minutes, friday, 明天下午3点",
    },
    "time.in_past": {
        "zh": "时间“{text}”已经过去了，请给一个将来的时间。",
        "en": "The time “{text}” is in the past; please give a time in the future.",
    },
    "time.invalid_date": {
        "zh": "日期“{text}”不存在。",
        "en": "The date “{text}” does not exist.",
    },
    "time.invalid_clock": {
        "zh": "时刻“{text}”不正确（小时 0–23，分钟 0–59）。",
        "en": "The time of day “{text}” is not valid (hours 0–23, minutes 0–59).",
    },
    "time.too_far": {
        "zh": "时间“{text}”太远了：只能是前后 {years} 年之内的时间。",
        "en": "The time “{text}” is too far away: it must be within {years} years of now.",
    },
    "time.too_complex": {
        "zh": "这段文字太长或太复杂，没能及时读懂。请简化后再发一次，例如：明天下午3点 交材料",
        "en": "That text is too long or too convoluted to read in time. Please simplify it, e.g. tomorrow 3pm call",
    },
    "time.no_holiday_data": {
        "zh": "注意：{year}年的法定节假日安排尚未收录，工作日暂按周一至周五计算。",
        "en": (
            "Note: the official holidays of {year} are not known yet, so working days were counted as Monday to Friday."
        ),
    },
    "time.unknown_timezone": {
        "zh": "未知时区“{text}”。例如：Asia/Shanghai、Europe/London、America/New_York",
        "en": "Unknown time zone “{text}”. For example: Asia/Shanghai, Europe/London, America/New_York",
    },
    "time.unparsed_recurrence": {
        "zh": "没能理解重复规则“{text}”。例如：每天9点、每周一上午9点、每月1号10点、工作日每天9点、cron 0 9 * * 1-5",
        "en": (
            "Could not understand the repeat rule “{text}”. For example: every day 9:00, "
            "every monday 9am, every weekday 8:30, cron 0 9 * * 1-5"
        ),
    },
    "time.bad_cron": {
        "zh": "cron 表达式“{text}”不正确，应为 5 段：分 时 日 月 周，例如 0 9 * * 1-5",
        "en": (
            "The cron expression “{text}” is not valid; it needs 5 fields: "
            "minute hour day month weekday, e.g. 0 9 * * 1-5"
        ),
    },
    "time.bad_rule": {
        "zh": "无法读取已保存的重复规则“{text}”。",
        "en": "The stored repeat rule “{text}” cannot be read.",
    },
    # Pieces used by formatting.py / recurrence.describe(); not sentences.
    "fmt.today": {"zh": "今天", "en": "today"},
    "fmt.tomorrow": {"zh": "明天", "en": "tomorrow"},
    "fmt.day_after_tomorrow": {"zh": "后天", "en": "the day after tomorrow"},
    "fmt.yesterday": {"zh": "昨天", "en": "yesterday"},
    "rec.daily": {"zh": "每天 {time}", "en": "every day {time}"},
    "rec.weekdays": {"zh": "每周一至周五 {time}", "en": "every weekday {time}"},
    "rec.workdays": {"zh": "每个工作日 {time}", "en": "every working day {time}"},
    "rec.weekly": {"zh": "每{days} {time}", "en": "every {days} {time}"},
    "rec.monthly": {"zh": "每月{day}日 {time}", "en": "every month on day {day} {time}"},
    "rec.monthly_last": {"zh": "每月最后一天 {time}", "en": "the last day of every month {time}"},
    "rec.hourly": {"zh": "每{n}小时", "en": "every {n} hours"},
    "rec.hourly_one": {"zh": "每小时", "en": "every hour"},
    "rec.minutely": {"zh": "每{n}分钟", "en": "every {n} minutes"},
    "rec.cron": {"zh": "按 cron 规则“{expr}”", "en": "on the cron schedule “{expr}”"},
}

# Weekday names, Monday first (datetime.weekday() order).
WEEKDAYS: dict[str, tuple[str, ...]] = {
    "zh": ("周一", "周二", "周三", "周四", "周五", "周六", "周日"),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}
WEEKDAYS_LONG: dict[str, tuple[str, ...]] = {
    "zh": ("周一", "周二", "周三", "周四", "周五", "周六", "周日"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
MONTHS_EN: tuple[str, ...] = (
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
)  # fmt: skip

LANGS: tuple[str, ...] = ("zh", "en")


def text(key: str, lang: str = "zh", **params: object) -> str:
    """Render one text in ``lang`` (falls back to zh for unknown languages)."""
    entry = TEXTS[key]
    template = entry.get(lang) or entry["zh"]
    return template.format(**params)
