"""Texts of supervised tasks (督办) and reminders (zh-CN default, en)."""

from __future__ import annotations

from bot.i18n import Catalog
from timeparse import TEXTS as TIME_TEXTS

_OWN: dict[str, dict[str, str]] = {
    "group.tasks": {"zh": "督办与提醒", "en": "Tasks and reminders"},
    "push.title": {"zh": "值班助手提醒", "en": "Zhiban reminder"},
    # -- reminders ------------------------------------------------------------------
    "reminder.created": {
        "zh": "⏰ 已设提醒 {code}：{text}\n提醒时间：{when}{where}",
        "en": "⏰ Reminder {code} set: {text}\nReminder time: {when}{where}",
    },
    "reminder.created_repeat": {
        "zh": "🔁 已设重复提醒 {code}：{text}\n重复：{rule}\n首次提醒：{when}{where}",
        "en": "🔁 Repeating reminder {code} set: {text}\nRepeats: {rule}\nFirst reminder: {when}{where}",
    },
    "reminder.created_alarm": {
        "zh": "🚨 已设闹钟 {code}：{text}\n响铃时间：{when}{where}",
        "en": "🚨 Alarm {code} set: {text}\nRings at: {when}{where}",
    },
    "reminder.created_alarm_repeat": {
        "zh": "🚨 已设重复闹钟 {code}：{text}\n重复：{rule}\n首次响铃：{when}{where}",
        "en": "🚨 Repeating alarm {code} set: {text}\nRepeats: {rule}\nFirst rings: {when}{where}",
    },
    "reminder.not_for_others": {
        "zh": (
            "提醒只能设给自己（我）或本群，不能设给 {who}。"
            "请同事办事请用 !督办；要大家都看到，请用 !提醒 本群 <时间> <内容>。"
        ),
        "en": (
            "Reminders are for yourself (me) or this room (room), not for {who}. "
            "To ask a colleague to do something use !task; to remind everyone here use !remind room <when> <text>."
        ),
    },
    "reminder.alarm_note": {
        "zh": "\n这是闹钟：每 {minutes} 分钟重复一次，直到有人回应 ✅。",
        "en": "\nThis is an alarm: it repeats every {minutes} minutes until someone reacts ✅.",
    },
    "reminder.where_room": {"zh": "\n将在本群提醒。", "en": "\nI will remind this room."},
    "reminder.where_me": {"zh": "\n将私信提醒您。", "en": "\nI will remind you by direct message."},
    "reminder.hint": {
        "zh": "\n（❌ 取消，👍 订阅）",
        "en": "\n(❌ to cancel, 👍 to subscribe)",
    },
    "reminder.fired": {"zh": "⏰ 提醒 {code}：{text}", "en": "⏰ Reminder {code}: {text}"},
    "reminder.fired_alarm": {
        "zh": "🚨 闹钟 {code}：{text}\n请回应 ✅ 停止提醒。",
        "en": "🚨 Alarm {code}: {text}\nReact ✅ to stop it.",
    },
    "reminder.fired_again": {
        "zh": "🚨 闹钟 {code}（再次提醒）：{text}\n请回应 ✅ 停止提醒。",
        "en": "🚨 Alarm {code} (again): {text}\nReact ✅ to stop it.",
    },
    "reminder.no_text": {"zh": "请写上提醒的内容。", "en": "Please say what to remind about."},
    "reminder.not_found": {"zh": "没有找到提醒 {code}。", "en": "No reminder {code}."},
    "reminder.not_yours": {
        "zh": "提醒 {code} 不是您设的，只有设置人（群提醒还有本群管理员）可以取消。",
        "en": "Reminder {code} is not yours; only who set it (or, for a room reminder, a room admin) can cancel it.",
    },
    "reminder.cancelled": {"zh": "🗑 已取消提醒 {code}。", "en": "🗑 Reminder {code} cancelled."},
    "reminder.cancelled_by_admin": {
        "zh": "🗑 群管理员 {user} 已取消 {owner} 设置的提醒 {code}。",
        "en": "🗑 Room admin {user} cancelled reminder {code} set by {owner}.",
    },
    "reminder.subscribed": {
        "zh": "👍 {user} 已订阅提醒 {code}。",
        "en": "👍 {user} subscribed to reminder {code}.",
    },
    "reminder.acknowledged": {
        "zh": "✅ 闹钟 {code} 已由 {user} 确认，停止提醒。",
        "en": "✅ Alarm {code} acknowledged by {user}; it stops now.",
    },
    "reminder.list_empty": {"zh": "您没有待办的提醒。", "en": "You have no pending reminders."},
    "reminder.list_title": {"zh": "您的提醒：", "en": "Your reminders:"},
    "reminder.list_item": {"zh": "{code} · {when} · {text}{extra}", "en": "{code} · {when} · {text}{extra}"},
    "reminder.tag_repeat": {"zh": "（{rule}）", "en": " ({rule})"},
    "reminder.tag_alarm": {"zh": "（闹钟）", "en": " (alarm)"},
    "reminder.tag_room": {"zh": "（群提醒）", "en": " (room)"},
    "reminder.tag_sub": {"zh": "（已订阅）", "en": " (subscribed)"},
    "reminder.cancel_which": {
        "zh": "请给出提醒编号，例如 !取消提醒 R12。",
        "en": "Which reminder? For example: !cancel R12.",
    },
    # -- tasks ------------------------------------------------------------------------
    "task.created": {
        "zh": "📌 督办 {code}{priority}：{title}\n牵头：{lead}{co}\n交办：{assigner}\n期限：{when}{source}",
        "en": "📌 Task {code}{priority}: {title}\nLead: {lead}{co}\nAssigned by: {assigner}\nDue: {when}{source}",
    },
    "task.co_line": {"zh": "\n协办：{co}", "en": "\nCo-owners: {co}"},
    "task.end_of_day_tag": {"zh": "（下班前）", "en": " (end of the working day)"},
    "task.card_status": {"zh": "状态：{status} · 进度 {percent}%", "en": "Status: {status} · progress {percent}%"},
    "task.card_accepted": {"zh": "状态：✅ 已办结（{when}）", "en": "Status: ✅ accepted and closed ({when})"},
    "task.card_cancelled": {"zh": "状态：🗑 已撤销", "en": "Status: 🗑 withdrawn"},
    "task.card_latest": {"zh": "\n最新进展：{note}", "en": "\nLatest: {note}"},
    "task.card_ext": {
        "zh": "\n⏳ {user} 申请延期至 {when}，待交办人答复",
        "en": "\n⏳ {user} asked for more time, until {when}; awaiting the assigner",
    },
    "task.history_created": {"zh": "交办时间：{when}", "en": "Assigned: {when}"},
    "task.history_title": {"zh": "办理记录：", "en": "History:"},
    "task.history_item": {"zh": "· {when} {user} {what}{percent}{text}", "en": "· {when} {user} {what}{percent}{text}"},
    "task.note_created": {"zh": "交办", "en": "assigned"},
    "task.note_progress": {"zh": "报告进度", "en": "reported progress"},
    "task.note_done": {"zh": "提交完成", "en": "submitted as done"},
    "task.note_accept": {"zh": "确认办结", "en": "accepted"},
    "task.note_sendback": {"zh": "退办", "en": "sent back"},
    "task.note_extend": {"zh": "申请延期", "en": "asked for an extension"},
    "task.note_ext_approved": {"zh": "同意延期", "en": "approved the extension"},
    "task.note_ext_refused": {"zh": "驳回延期", "en": "refused the extension"},
    "task.note_cancel": {"zh": "撤销", "en": "withdrew the task"},
    "task.source_line": {"zh": "\n来源：{source}", "en": "\nSource: {source}"},
    "task.priority_high": {"zh": "【紧急】", "en": " [URGENT]"},
    "task.assigned_dm": {
        "zh": (
            "📌 {assigner} 交办给您督办事项 {code}：{title}\n期限：{when}\n"
            "进展请发送 !进展 {code} 50% 说明；完成后发送 !完成 {code} 说明。"
        ),
        "en": (
            "📌 {assigner} assigned you task {code}: {title}\nDue: {when}\n"
            "Report progress with !progress {code} 50% note; when finished send !done {code} note."
        ),
    },
    "task.no_title": {"zh": "请写上督办事项的内容。", "en": "Please give the task a title."},
    "task.no_lead": {
        "zh": "请 @ 一位牵头人，例如 !督办 整理纪要 @chu 截止 周五前。",
        "en": "Please @mention the lead, e.g. !task new Write minutes @chu by friday.",
    },
    "task.no_due": {
        "zh": "请给出期限，例如“截止 周五前”或“截止 3个工作日”。",
        "en": "Please give a deadline, e.g. “by friday” or “by 3 working days”.",
    },
    "task.due_past": {
        "zh": "期限 {when} 已经过去了，请给一个将来的时间。",
        "en": "The deadline {when} is in the past; please give a future time.",
    },
    "task.not_found": {"zh": "没有找到督办事项 {code}。", "en": "No task {code}."},
    "task.not_yours": {
        "zh": "您不是 {code} 的牵头人、协办人或交办人，不能操作。",
        "en": "You are not the lead, a co-owner or the assigner of {code}.",
    },
    "task.owners_only": {
        "zh": "只有 {code} 的牵头人或协办人可以这样做。",
        "en": "Only the lead or a co-owner of {code} can do that.",
    },
    "task.assigner_only": {
        "zh": "只有 {code} 的交办人 {assigner} 可以这样做。",
        "en": "Only {assigner}, who assigned {code}, can do that.",
    },
    "task.bad_percent": {
        "zh": "进度“{value}”不对，请给 0–100 之间的百分比，例如 60%。",
        "en": "Progress “{value}” is not valid; give a percentage from 0 to 100, e.g. 60%.",
    },
    "task.need_percent": {
        "zh": "请给出进度百分比（0–100），例如 !进展 T7 60% 初稿已完成。",
        "en": "Please give the progress as a percentage (0–100), e.g. !progress T7 60% draft done.",
    },
    "task.need_code": {"zh": "请给出督办编号，例如 T7。", "en": "Please give the task ID, e.g. T7."},
    "task.closed": {
        "zh": "{code} 已办结，不能再操作。",
        "en": "{code} has been accepted and closed already.",
    },
    "task.not_open": {
        "zh": "{code} 已提交办结，等待交办人确认。",
        "en": "{code} has been submitted and awaits the assigner's acceptance.",
    },
    "task.not_submitted": {
        "zh": "{code} 还没有提交完成，无法办结或退办。",
        "en": "{code} has not been submitted as done yet.",
    },
    "task.need_reason": {"zh": "请写明理由。", "en": "Please give a reason."},
    "task.ext_pending": {
        "zh": "{code} 已有一份延期申请在等待答复。",
        "en": "{code} already has an extension request awaiting a decision.",
    },
    "task.ext_not_later": {
        "zh": "新期限 {when} 不晚于现期限 {due}，无需延期。",
        "en": "The new deadline {when} is not later than the current one ({due}).",
    },
    "task.no_ext": {"zh": "{code} 没有待审批的延期申请。", "en": "{code} has no pending extension request."},
    "task.progress_set": {
        "zh": "📈 {code} 进度 {percent}%：{note}",
        "en": "📈 {code} progress {percent}%: {note}",
    },
    "task.progress_dm": {
        "zh": "📈 {user} 更新了 {code}「{title}」进度：{percent}%。{note}",
        "en": "📈 {user} updated {code} “{title}”: {percent}%. {note}",
    },
    "task.submitted": {
        "zh": "📨 {code}「{title}」已提交完成：{note}\n请交办人 {assigner} 回应 ✅ 办结，或发送 !退办 {code} 理由。",
        "en": (
            "📨 {code} “{title}” submitted as done: {note}\n"
            "{assigner}: react ✅ to accept, or send !sendback {code} reason."
        ),
    },
    "task.accepted": {
        "zh": "✅ {code}「{title}」已办结（{user} 确认）。",
        "en": "✅ {code} “{title}” accepted and closed by {user}.",
    },
    "task.sent_back": {
        "zh": "↩️ {code}「{title}」被退办：{reason}\n期限：{when}",
        "en": "↩️ {code} “{title}” was sent back: {reason}\nDue: {when}",
    },
    "task.ext_requested": {
        "zh": (
            "⏳ {user} 申请将 {code}「{title}」延期至 {when}（现期限 {due}）：{reason}\n"
            "请交办人 {assigner} 回应 ✅ 同意或 ❌ 不同意，或发送 !同意延期 {code} / !驳回延期 {code} 理由。"
        ),
        "en": (
            "⏳ {user} asks to extend {code} “{title}” to {when} (now due {due}): {reason}\n"
            "{assigner}: react ✅ to approve or ❌ to refuse, or send !approve-ext {code} / !refuse-ext {code} reason."
        ),
    },
    "task.ext_approved": {
        "zh": "✅ {code}「{title}」延期已批准，新期限：{when}。",
        "en": "✅ Extension of {code} “{title}” approved; new deadline: {when}.",
    },
    "task.ext_refused": {
        "zh": "❌ {code}「{title}」延期未批准：{reason}\n期限仍为：{when}。",
        "en": "❌ Extension of {code} “{title}” refused: {reason}\nThe deadline stays {when}.",
    },
    "task.cancelled": {
        "zh": "🗑 督办 {code}「{title}」已由交办人 {user} 撤销：{reason}",
        "en": "🗑 Task {code} “{title}” was withdrawn by its assigner {user}: {reason}",
    },
    "task.cancel_done": {
        "zh": "🗑 已撤销督办 {code}「{title}」，相关提醒已停止。",
        "en": "🗑 Task {code} “{title}” withdrawn; its reminders are stopped.",
    },
    "task.no_reason": {"zh": "（未说明）", "en": "(no reason given)"},
    "task.no_note": {"zh": "（无说明）", "en": "(no note)"},
    "task.remind_before": {
        "zh": "⏰ 督办 {code}「{title}」将于 {when} 到期（还有 {left}），当前进度 {percent}%。",
        "en": "⏰ Task {code} “{title}” is due {when} (in {left}); progress {percent}%.",
    },
    # The first notice comes at the deadline itself: the task is due, not yet overdue.
    "task.due_lead": {
        "zh": "🔴 督办 {code}「{title}」已到期（期限 {when}），请尽快办理或申请延期。",
        "en": "🔴 Task {code} “{title}” is due now ({when}); please finish it or ask for an extension.",
    },
    "task.overdue_lead": {
        "zh": "🔴 督办 {code}「{title}」已超期（期限 {when}），请尽快办理或申请延期。",
        "en": "🔴 Task {code} “{title}” is overdue (due {when}); please finish it or ask for an extension.",
    },
    "task.overdue_assigner": {
        "zh": "🔴 您交办的 {code}「{title}」已超期（期限 {when}），牵头人：{lead}，进度 {percent}%。",
        "en": "🔴 Task {code} “{title}” that you assigned is overdue (due {when}); lead {lead}, progress {percent}%.",
    },
    "task.digest_title": {
        "zh": "📋 超期督办事项日报（{count} 项）：",
        "en": "📋 Daily digest of overdue tasks ({count}):",
    },
    "task.digest_item": {
        "zh": "{code}「{title}」牵头 {lead}，期限 {when}，进度 {percent}%",
        "en": "{code} “{title}”, lead {lead}, due {when}, progress {percent}%",
    },
    "task.list_empty": {"zh": "没有符合条件的督办事项。", "en": "No matching tasks."},
    "task.list_mine": {"zh": "您的督办事项（按期限）：", "en": "Your tasks, by deadline:"},
    "task.list_overdue": {"zh": "超期的督办事项：", "en": "Overdue tasks:"},
    "task.list_of": {"zh": "{user} 的督办事项：", "en": "Tasks of {user}:"},
    "task.list_finished": {"zh": "已办结的督办事项（最近办结的在前）：", "en": "Accepted tasks, most recent first:"},
    "task.list_finished_hint": {
        "zh": "（已办结的事项请发送 !督办列表 已办结）",
        "en": "(for accepted tasks send !tasks done)",
    },
    "task.list_visible": {"zh": "您可查看的督办事项（按期限）：", "en": "Tasks you may see, by deadline:"},
    "task.list_item": {
        "zh": "{flag}{code}「{title}」{role} · 期限 {when} · {percent}% · {status}",
        "en": "{flag}{code} “{title}”{role} · due {when} · {percent}% · {status}",
    },
    "task.role_lead": {"zh": "（牵头）", "en": " (lead)"},
    "task.role_co": {"zh": "（协办）", "en": " (co-owner)"},
    "task.role_assigner": {"zh": "（交办）", "en": " (assigned by you)"},
    "task.status_open": {"zh": "办理中", "en": "in progress"},
    "task.status_overdue": {"zh": "🔴 已超期", "en": "🔴 overdue"},
    "task.status_submitted": {"zh": "待办结", "en": "awaiting acceptance"},
    "task.status_accepted": {"zh": "已办结", "en": "accepted"},
    "task.status_cancelled": {"zh": "已撤销", "en": "cancelled"},
    "task.not_allowed_view": {
        "zh": "只能查看自己或自己交办的督办事项。",
        "en": "You can only see your own tasks and those you assigned.",
    },
    # -- the board's section ---------------------------------------------------------------
    "board.tasks.title": {"zh": "督办", "en": "Tasks"},
    "board.tasks.empty": {"zh": "没有超期或临期的督办事项。", "en": "No task is overdue or due soon."},
    "board.tasks.due": {"zh": "期限：{when}", "en": "Due: {when}"},
    "board.tasks.late": {"zh": "🔴 已超期 {span}", "en": "🔴 Overdue by {span}"},
    "board.tasks.left": {"zh": "剩余 {span}", "en": "{span} left"},
    "board.tasks.progress": {"zh": "进度：{percent}%", "en": "Progress: {percent}%"},
    "board.tasks.act_progress": {"zh": "报进度", "en": "Report progress"},
    "board.tasks.act_done": {"zh": "报告完成", "en": "Mark done"},
}

TEXTS: dict[str, dict[str, str]] = {**TIME_TEXTS, **_OWN}


#: One text in `lang` (zh when it is missing), for services, timers and workers, which have no
#: chat translator at hand: the framework's own lookup (bot.i18n), over this catalog alone.
render = Catalog(TEXTS).t
