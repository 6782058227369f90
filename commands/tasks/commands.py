"""The commands of supervised tasks (督办) and reminders, as users type them."""

from __future__ import annotations

from bot import Command
from bot.grammar import Sub, SubTable

_G = "tasks"

# -- supervised tasks --------------------------------------------------------------------
# Text with no sub-command word is a new task (`!督办 整理会议纪要 @chu 截止 周五`); the words of
# `new` are the ones parsing.strip_new takes off.
TASK_SUBS = SubTable(
    (Sub("new", ("add", "新建", "新增")), Sub("cancel", ("withdraw", "撤销", "撤回"))),
    default="new",
)
TASK = Command(
    "task",
    aliases=("督办",),
    usage={
        "zh": "!督办 <事项> @牵头人 [@协办…] 截止 <时间> [来源 M3] [紧急]\n!督办 T7（查看）\n!督办 撤销 T7 [理由]",
        "en": "!task new <title> @lead [@co…] by <when> [from M3] [!high]\n!task T7 (show)\n!task cancel T7 [reason]",
    },
    summary={"zh": "交办督办事项", "en": "Assign a supervised task"},
    example="!督办 整理会议纪要 @chu 截止 周五前 来源 M3",
    group=_G,
    subcommands=TASK_SUBS,
)
PROGRESS = Command(
    "progress",
    aliases=("进展", "进度"),
    usage={"zh": "!进展 T7 60% <说明>", "en": "!progress T7 60% <note>"},
    summary={"zh": "报告督办进度", "en": "Report progress on a task"},
    example="!progress T7 60% 初稿已完成",
    group=_G,
)
DONE = Command(
    "done",
    aliases=("完成",),
    usage={"zh": "!完成 T7 <说明>", "en": "!done T7 <note>"},
    summary={"zh": "提交完成，请交办人办结", "en": "Submit a task as done for acceptance"},
    group=_G,
)
ACCEPT = Command(
    "accept",
    aliases=("办结",),
    usage={"zh": "!办结 T7（或在完成通知上回应 ✅）", "en": "!accept T7 (or react ✅ on the completion notice)"},
    summary={"zh": "交办人确认办结", "en": "Accept a completed task (assigner)"},
    group=_G,
)
SENDBACK = Command(
    "sendback",
    aliases=("退办",),
    usage={"zh": "!退办 T7 <理由>", "en": "!sendback T7 <reason>"},
    summary={"zh": "交办人退回重办", "en": "Send a completed task back (assigner)"},
    group=_G,
)
EXTEND = Command(
    "extend",
    aliases=("延期", "延期申请"),
    usage={"zh": "!延期 T7 <新期限> <理由>", "en": "!extend T7 <when> <reason>"},
    summary={"zh": "申请延期", "en": "Ask the assigner for more time"},
    example="!延期 T7 下周一 需要会签",
    group=_G,
)
APPROVE_EXT = Command(
    "approve-ext",
    aliases=("同意延期",),
    usage={"zh": "!同意延期 T7（或在申请上回应 ✅）", "en": "!approve-ext T7 (or react ✅ on the request)"},
    summary={"zh": "同意延期申请", "en": "Approve an extension request (assigner)"},
    group=_G,
)
REFUSE_EXT = Command(
    "refuse-ext",
    aliases=("驳回延期", "不同意延期"),
    usage={"zh": "!驳回延期 T7 <理由>（或在申请上回应 ❌）", "en": "!refuse-ext T7 <reason> (or react ❌)"},
    summary={"zh": "驳回延期申请", "en": "Refuse an extension request (assigner)"},
    group=_G,
)
# Which list `!tasks` shows; a word that is none of these (`@someone`, or nothing) lists one's own.
TASKS_SUBS = SubTable(
    (
        Sub("mine", ("我的",)),
        Sub("overdue", ("超期", "逾期", "late")),
        Sub("done", ("已办结", "办结", "已完成", "closed", "accepted", "finished")),
        Sub("all", ("全部", "所有")),
    ),
    default="mine",
    ids=False,
)
TASKS = Command(
    "tasks",
    aliases=("督办列表", "我的督办"),
    usage={"zh": "!督办列表 [超期|已办结|全部|@某人]", "en": "!tasks [overdue|done|all|@someone]"},
    summary={"zh": "查看督办事项（按期限）", "en": "List tasks by deadline"},
    group=_G,
    subcommands=TASKS_SUBS,
)

# -- reminders ---------------------------------------------------------------------------
REMIND = Command(
    "remind",
    aliases=("提醒",),
    usage={
        "zh": "!提醒 我|本群 <时间> <内容>\n!提醒 我 每<规则> <内容>（如 每天9点、每周一上午9点、cron 0 9 * * 1-5）",
        "en": "!remind me|room <when> <text>\n!remind me every <rule> <text> (every day 9:00, every monday, cron …)",
    },
    summary={"zh": "设置个人或群提醒，可重复", "en": "Set a personal or room reminder, optionally repeating"},
    example="!提醒 我 明天下午3点 交材料",
    group=_G,
)
ALARM = Command(
    "alarm",
    aliases=("闹钟",),
    usage={"zh": "!闹钟 [我|本群] <时间> <内容>", "en": "!alarm [me|room] <when> <text>"},
    summary={
        "zh": "设置闹钟：到点后反复提醒，直到有人回应 ✅",
        "en": "Set an alarm that repeats until someone reacts ✅",
    },
    example="!alarm room in 10 minutes 开会",
    group=_G,
)
REMINDERS_SUBS = SubTable((Sub("all", ("全部", "所有")),), ids=False)
REMINDERS = Command(
    "reminders",
    aliases=("提醒列表",),
    usage={
        "zh": "!提醒列表 [全部]（全部：含本群的群提醒）",
        "en": "!reminders [all] (all: with this room's reminders)",
    },
    summary={"zh": "查看您的提醒", "en": "List your reminders"},
    group=_G,
    subcommands=REMINDERS_SUBS,
)
CANCEL = Command(
    "cancel",
    aliases=("取消提醒",),
    usage={"zh": "!取消提醒 R12", "en": "!cancel R12"},
    summary={"zh": "取消一个提醒（也可在提醒消息上回应 ❌）", "en": "Cancel a reminder (or react ❌ on it)"},
    example="!cancel R12",
    group=_G,
)
