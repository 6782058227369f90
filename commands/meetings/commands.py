"""The meeting commands, as users type them."""

from __future__ import annotations

from bot import Command
from bot.grammar import Sub, SubTable

_G = "meetings"
# Text with no sub-command word schedules: `!会议 防汛会商 明天下午3点 @a` (the common case).
MEETING_SUBS = SubTable(
    (
        Sub("new", ("create", "发起", "新建", "召开")),
        Sub("move", ("reschedule", "改期", "改时间")),
        Sub("place", ("where", "改地点", "换地点", "地点")),
        Sub("cancel", ("取消",)),
        Sub("end", ("close", "结束")),
        Sub("ics", ("calendar", "日历")),
        Sub("show", ("查看",)),
        Sub("list", ("列表",)),
    ),
    default="new",
)
MEETING = Command(
    "meeting",
    aliases=("会议",),
    usage={
        "zh": "!会议 [发起] <名称> <时间> [在 <地点>] @参会人…\n!会议 改期 M3 <时间> · !会议 改地点 M3 <地点>\n"
        "!会议 取消 M3 [原因] · !会议 结束 M3 · !会议 日历 M3 · !会议 M3（查看）",
        "en": "!meeting new <title> <when> [at <place>] @attendees…\n!meeting move M3 <when> · "
        "!meeting place M3 <place>\n!meeting cancel M3 [reason] · !meeting end M3 · !meeting ics M3 · "
        "!meeting M3 (show)",
    },
    summary={"zh": "发起和管理会议（会议通知）", "en": "Schedule and manage meetings"},
    example="!会议 防汛会商 明天下午3点 在 三楼会议室 @chu @wang",
    group=_G,
    subcommands=MEETING_SUBS,
)
MEETINGS = Command(
    "meetings",
    aliases=("会议列表",),
    usage={"zh": "!会议列表", "en": "!meetings"},
    summary={"zh": "今天及近期的会议", "en": "Meetings today and ahead"},
    group=_G,
)
ATTEND = Command(
    "attend",
    aliases=("参会", "参加"),
    usage={"zh": "!参会 M3（或在通知上回应 ✅）", "en": "!attend M3 (or react ✅ on the notice)"},
    summary={"zh": "确认参加会议", "en": "Confirm you attend a meeting"},
    group=_G,
)
LEAVE = Command(
    "leave",
    aliases=("请假",),
    usage={"zh": "!请假 M3 <原因>（或在通知上回应 ❌）", "en": "!leave M3 <reason> (or react ❌ on the notice)"},
    summary={"zh": "会议请假", "en": "Take leave from a meeting"},
    group=_G,
)
DEPUTY = Command(
    "deputy",
    aliases=("代会",),
    usage={"zh": "!代会 M3 @某人（或在通知上回应 🔁）", "en": "!deputy M3 @someone (or react 🔁 on the notice)"},
    summary={"zh": "派人代为参会", "en": "Send someone in your place"},
    group=_G,
)
CHECKIN = Command(
    "checkin",
    aliases=("签到",),
    usage={"zh": "!签到 M3 <签到码>", "en": "!checkin M3 <code>"},
    summary={"zh": "会议签到", "en": "Sign in to a meeting"},
    example="!签到 M3 4821",
    group=_G,
)
MINUTES = Command(
    "minutes",
    aliases=("纪要",),
    usage={
        "zh": "!纪要 M3 <内容>（或在会议通知的话题中发言）\n!纪要 M3（查看纪要）",
        "en": "!minutes M3 <text> (or write in the card's thread)\n!minutes M3 (read the minutes)",
    },
    summary={"zh": "记入或查看会议纪要", "en": "Add a line to the minutes, or read them"},
    group=_G,
)
ACTION = Command(
    "action",
    aliases=("议定事项", "会议任务"),
    usage={"zh": "!议定事项 M3 @负责人 <任务> 截止 <时间>", "en": "!action M3 @someone <task> by <when>"},
    summary={"zh": "会上交办任务（转督办）", "en": "Assign an action (becomes a supervised task)"},
    example="!action M3 @chu 报送汛情简报 by 周五前",
    group=_G,
)
CONFIRM = Command(
    "confirm",
    aliases=("确认",),
    usage={"zh": "!确认（有冲突时仍发起会议）", "en": "!confirm (schedule despite conflicts)"},
    summary={"zh": "确认发起有冲突的会议", "en": "Schedule a meeting despite conflicts"},
    group=_G,
)
