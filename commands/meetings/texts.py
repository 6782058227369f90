"""Texts of meetings (会议) in zh-CN (default) and en."""

from __future__ import annotations

from bot.i18n import Catalog
from timeparse import TEXTS as TIME_TEXTS

_HINT_ZH = "请回应 ✅ 参加、❌ 请假（需说明原因）、🔁 派人代会（!代会 {code} @某人）。"
_HINT_EN = "React ✅ to attend, ❌ to take leave (with a reason), 🔁 to send a deputy (!deputy {code} @someone)."

_OWN: dict[str, dict[str, str]] = {
    "group.meetings": {"zh": "会议", "en": "Meetings"},
    "meeting.push_title": {"zh": "会议通知", "en": "Meeting notice"},
    # -- the card and the notices -------------------------------------------------------
    "meeting.card": {
        "zh": "📅 会议通知 {code}：{title}\n时间：{when}\n地点：{place}\n召集人：{organizer}\n"
        "参会情况：✅ 参加 {attend} · ❌ 请假 {leave} · 🔁 代会 {deputy} · ⏳ 未回复 {pending}{people}{status}",
        "en": "📅 Meeting {code}: {title}\nWhen: {when}\nWhere: {place}\nOrganizer: {organizer}\n"
        "Replies: ✅ attending {attend} · ❌ on leave {leave} · 🔁 deputy {deputy} · ⏳ no answer {pending}"
        "{people}{status}",
    },
    "meeting.card_hint": {
        "zh": "\n" + _HINT_ZH + "\n会议期间在本消息的话题（thread）中发言将记入纪要。",
        "en": "\n" + _HINT_EN + "\nDuring the meeting, messages in this message's thread go into the minutes.",
    },
    "meeting.status_cancelled": {"zh": "\n🚫 会议已取消{reason}", "en": "\n🚫 Cancelled{reason}"},
    "meeting.status_ended": {
        "zh": "\n🏁 会议已结束，纪要已发布。",
        "en": "\n🏁 The meeting has ended; minutes posted.",
    },
    "meeting.reason_suffix": {"zh": "（原因：{reason}）", "en": " (reason: {reason})"},
    "meeting.reason_pending": {"zh": "原因待补充", "en": "reason to follow"},
    "meeting.place_tbd": {"zh": "待定", "en": "to be decided"},
    "meeting.line_attend": {"zh": "\n✅ {user}{extra}", "en": "\n✅ {user}{extra}"},
    "meeting.line_leave": {"zh": "\n❌ {user}（{reason}）{extra}", "en": "\n❌ {user} ({reason}){extra}"},
    "meeting.line_deputy": {"zh": "\n🔁 {user} → {deputy}{extra}", "en": "\n🔁 {user} → {deputy}{extra}"},
    "meeting.line_pending": {"zh": "\n⏳ {user}{extra}", "en": "\n⏳ {user}{extra}"},
    "meeting.line_for": {"zh": "（代 {user}）", "en": " (for {user})"},
    "meeting.notice_dm": {
        "zh": "📅 会议通知 {code}：{title}\n时间：{when}\n地点：{place}\n召集人：{organizer}\n" + _HINT_ZH,
        "en": "📅 Meeting {code}: {title}\nWhen: {when}\nWhere: {place}\nOrganizer: {organizer}\n" + _HINT_EN,
    },
    "meeting.deputy_dm": {
        "zh": "📅 {user} 请您代为参加会议 {code}：{title}\n时间：{when}\n地点：{place}\n召集人：{organizer}\n"
        "请回应 ✅ 确认参加，或 ❌ 无法参加。",
        "en": "📅 {user} asks you to attend meeting {code} in their place: {title}\nWhen: {when}\nWhere: {place}\n"
        "Organizer: {organizer}\nReact ✅ to confirm or ❌ if you cannot.",
    },
    "meeting.leave_dm": {
        "zh": "📝 {user} 请假不参加会议 {code}「{title}」，原因：{reason}",
        "en": '📝 {user} takes leave from meeting {code} "{title}": {reason}',
    },
    "meeting.moved_room": {
        "zh": "🕒 会议 {code}「{title}」改期：原 {old}，现为 {when}，地点：{place}。",
        "en": '🕒 Meeting {code} "{title}" moved from {old} to {when}, at {place}.',
    },
    "meeting.moved_dm": {
        "zh": "🕒 会议改期 {code}「{title}」：原 {old}，现为 {when}，地点：{place}。",
        "en": '🕒 Meeting {code} "{title}" moved from {old} to {when}, at {place}.',
    },
    "meeting.place_room": {
        "zh": "📍 会议 {code}「{title}」地点变更：{old} → {place}（时间 {when}）。",
        "en": '📍 Meeting {code} "{title}" moves from {old} to {place} ({when}).',
    },
    "meeting.place_dm": {
        "zh": "📍 会议地点变更 {code}「{title}」：{old} → {place}，时间 {when}。",
        "en": '📍 Meeting {code} "{title}": new place {place} (was {old}), {when}.',
    },
    "meeting.cancelled_room": {
        "zh": "🚫 会议 {code}「{title}」（{when}）已取消{reason}。",
        "en": '🚫 Meeting {code} "{title}" ({when}) is cancelled{reason}.',
    },
    "meeting.cancelled_dm": {
        "zh": "🚫 会议取消通知 {code}「{title}」（{when}）已取消{reason}。",
        "en": '🚫 Meeting {code} "{title}" ({when}) is cancelled{reason}.',
    },
    "meeting.reminder_dm": {
        "zh": "⏰ 会议提醒 {code}：「{title}」将于 {start} 开始，地点：{place}。",
        "en": '⏰ Reminder {code}: "{title}" starts {start} at {place}.',
    },
    "meeting.checkin_open": {
        "zh": "📝 会议 {code}「{title}」开始签到，签到码：{pin}\n请发送 !签到 {code} {pin}（{until} 前有效）。",
        "en": '📝 Sign-in for meeting {code} "{title}" is open. Code: {pin}\nSend !checkin {code} {pin} '
        "(valid until {until}).",
    },
    "meeting.missing_dm": {
        "zh": "📋 会议 {code}「{title}」尚有 {count} 人未签到：{people}",
        "en": '📋 Meeting {code} "{title}": {count} not signed in yet: {people}',
    },
    "meeting.all_present_dm": {
        "zh": "📋 会议 {code}「{title}」应到人员均已签到。",
        "en": '📋 Meeting {code} "{title}": everyone expected has signed in.',
    },
    # -- the minutes ---------------------------------------------------------------------
    "meeting.minutes": {
        "zh": "🏁 会议纪要 {code}：{title}\n时间：{when}　地点：{place}　召集人：{organizer}\n\n"
        "**出席**：{present}\n**缺席**：{absent}\n**请假**：{leave}\n**代会**：{deputies}\n\n"
        "**纪要**\n{lines}\n\n**议定事项**\n{actions}",
        "en": "🏁 Minutes of {code}: {title}\nWhen: {when}  Where: {place}  Organizer: {organizer}\n\n"
        "**Present**: {present}\n**Absent**: {absent}\n**On leave**: {leave}\n**Deputies**: {deputies}\n\n"
        "**Minutes**\n{lines}\n\n**Actions**\n{actions}",
    },
    "meeting.none": {"zh": "无", "en": "none"},
    "meeting.leave_item": {"zh": "{user}（{reason}）", "en": "{user} ({reason})"},
    "meeting.deputy_item": {"zh": "{deputy} 代 {user}", "en": "{deputy} for {user}"},
    "meeting.action_item": {
        "zh": "- {user}：{task}（期限 {due}，督办 {code}）",
        "en": "- {user}: {task} (due {due}, task {code})",
    },
    # -- replies -----------------------------------------------------------------------
    "meeting.created": {
        "zh": "✅ 已发起会议 {code}：{title}\n会议时间：{when}\n地点：{place}\n已通知 {count} 人。",
        "en": "✅ Meeting {code} scheduled: {title}\nMeeting time: {when}\nWhere: {place}\n{count} people notified.",
        "en_one": "✅ Meeting {code} scheduled: {title}\nMeeting time: {when}\nWhere: {place}\n1 person notified.",
    },
    "meeting.conflicts": {
        "zh": "⚠️ 发现以下冲突：{items}\n仍要发起请回应 ✅ 或发送 !确认；回应 ❌ 或发送“取消”则放弃。",
        "en": "⚠️ Conflicts found:{items}\nReact ✅ or send !confirm to schedule anyway; react ❌ or send "
        '"cancel" to drop it.',
    },
    "meeting.conflict_place": {
        "zh": "\n· 地点 {place} 已被会议 {code}「{title}」（{when}）占用",
        "en": '\n· {place} is taken by meeting {code} "{title}" ({when})',
    },
    "meeting.conflict_person": {
        "zh": "\n· {user} 同时段要参加会议 {code}「{title}」（{when}）",
        "en": '\n· {user} is due at meeting {code} "{title}" ({when})',
    },
    "meeting.conflict_capacity": {
        "zh": "\n· {place} 仅 {seats} 个座位，参会 {needed} 人",
        "en": "\n· {place} seats {seats}, but {needed} people are invited",
    },
    "meeting.dropped": {"zh": "好的，会议未发起。", "en": "OK, the meeting was not scheduled."},
    "meeting.ask_title": {"zh": "请输入会议名称：", "en": "What is the meeting called?"},
    "meeting.ask_when": {
        "zh": "会议「{title}」什么时间开？（例如：明天下午3点、周五 9:30）",
        "en": 'When is "{title}"? (e.g. tomorrow 3pm, fri 9:30)',
    },
    "meeting.ask_place": {
        "zh": "在哪里开？可选：{known}（回复“无”表示待定）",
        "en": 'Where? Choose from: {known} (reply "none" to decide later)',
    },
    "meeting.ask_attendees": {
        "zh": "请 @ 参会人员（回复“无”表示暂不邀请）：",
        "en": 'Mention the attendees (reply "none" to invite nobody yet):',
    },
    "meeting.wizard_hint": {"zh": "（发送“取消”可放弃）", "en": '(send "cancel" to stop)'},
    "meeting.answered_attend": {"zh": "✅ 已登记：{user} 参加会议 {code}。", "en": "✅ {user} attends meeting {code}."},
    "meeting.answered_leave": {
        "zh": "❌ 已登记：{user} 请假不参加会议 {code}。",
        "en": "❌ {user} is on leave from meeting {code}.",
    },
    "meeting.ask_reason": {
        "zh": "{user}，请回复本条消息说明请假原因：",
        "en": "{user}, please reply to this message with the reason for your leave:",
    },
    "meeting.reason_saved": {"zh": "📝 请假原因已记录（会议 {code}）。", "en": "📝 Reason noted (meeting {code})."},
    "meeting.ask_deputy": {
        "zh": "{user}，请回复本条消息并 @ 代您参会的人（或发送 !代会 {code} @某人）：",
        "en": "{user}, reply to this message mentioning who goes in your place (or send !deputy {code} @someone):",
    },
    "meeting.deputy_set": {
        "zh": "🔁 已登记：{deputy} 代 {user} 参加会议 {code}，已通知本人。",
        "en": "🔁 {deputy} attends meeting {code} for {user}; they have been told.",
    },
    "meeting.need_one_person": {"zh": "请 @ 一位代会人。", "en": "Please mention one person."},
    "meeting.moved_ok": {
        "zh": "🕒 会议 {code} 已改期，新时间：{when}，已通知全体参会人员。",
        "en": "🕒 Meeting {code} moved; new time: {when}. Everyone was told.",
    },
    "meeting.move_conflicts": {
        "zh": "\n⚠️ 请注意，新时间有以下冲突（会议已按新时间改期，如需调整请再次改期或改地点）：{items}",
        "en": "\n⚠️ Note the new time clashes with (the meeting was moved anyway; move it again or change the "
        "place if needed):{items}",
    },
    "meeting.place_ok": {
        "zh": "📍 会议 {code} 地点已改为 {place}，已通知全体参会人员。",
        "en": "📍 Meeting {code} now at {place}. Everyone was told.",
    },
    "meeting.cancelled_ok": {
        "zh": "🚫 会议 {code} 已取消，已通知全体参会人员。",
        "en": "🚫 Meeting {code} cancelled; everyone was told.",
    },
    "meeting.checkin_ok": {
        "zh": "✅ {user} 已签到（会议 {code}，{time}）。",
        "en": "✅ {user} signed in (meeting {code}, {time}).",
    },
    "meeting.minute_ok": {"zh": "📝 已记入会议 {code} 纪要。", "en": "📝 Added to the minutes of {code}."},
    "meeting.action_ok": {
        "zh": "📌 议定事项已交办 {user}：{task}\n完成期限：{due}{task_code}",
        "en": "📌 Action for {user}: {task}\nDue: {due}{task_code}",
    },
    "meeting.action_task": {"zh": "\n已转为督办事项 {code}。", "en": "\nTracked as task {code}."},
    "meeting.ics": {
        "zh": "📆 会议 {code} 的日历文件（保存为 {file} 后导入日历）：\n```\n{ics}```",
        "en": "📆 Calendar file of meeting {code} (save as {file} and import it):\n```\n{ics}```",
    },
    "meeting.list_empty": {"zh": "今天及以后没有已安排的会议。", "en": "No meetings today or later."},
    "meeting.list_title": {"zh": "📅 今天及近期会议：", "en": "📅 Meetings today and ahead:"},
    "meeting.list_item": {
        "zh": "{code} · {when} · {title} · {place}{mine}",
        "en": "{code} · {when} · {title} · {place}{mine}",
    },
    "meeting.list_answer": {"zh": "（您：{answer}）", "en": " (you: {answer})"},
    "meeting.answer.pending": {"zh": "未回复", "en": "no answer"},
    "meeting.answer.attend": {"zh": "参加", "en": "attending"},
    "meeting.answer.leave": {"zh": "请假", "en": "on leave"},
    "meeting.answer.deputy": {"zh": "代会", "en": "deputy"},
    "meeting.answer.organizer": {"zh": "召集人", "en": "organizer"},
    # -- mistakes ----------------------------------------------------------------------
    "meeting.need_code": {"zh": "请写上会议编号，例如 M3。", "en": "Please give the meeting number, e.g. M3."},
    "meeting.bad_code": {
        "zh": "“{code}”不是会议编号（例如 M3）。",
        "en": "'{code}' is not a meeting number (e.g. M3).",
    },
    "meeting.not_found": {"zh": "没有找到会议 {code}。", "en": "No meeting {code}."},
    "meeting.other_room": {
        "zh": "会议 {code} 不是在本群发起的，请在其会议群或与我的私聊中操作。",
        "en": "Meeting {code} belongs to another room; use that room or a direct message with me.",
    },
    "meeting.not_organizer": {
        "zh": "只有会议 {code} 的召集人（或管理员）可以这样做。",
        "en": "Only the organizer of meeting {code} (or an admin) can do that.",
    },
    "meeting.not_invited": {
        "zh": "您不在会议 {code} 的参会名单中。",
        "en": "You are not on the list of meeting {code}.",
    },
    "meeting.already_cancelled": {"zh": "会议 {code} 已取消。", "en": "Meeting {code} was cancelled."},
    "meeting.already_ended": {"zh": "会议 {code} 已结束。", "en": "Meeting {code} has ended."},
    "meeting.no_title": {"zh": "请写上会议名称。", "en": "Please give the meeting a title."},
    "meeting.in_past": {
        "zh": "这个时间已经过去了，请给一个将来的时间。",
        "en": "That time has passed; give a time ahead.",
    },
    "meeting.unknown_place": {
        "zh": "没有“{place}”这个会议地点。可选：{known}",
        "en": "There is no place called '{place}'. Known places: {known}",
    },
    "meeting.no_place": {"zh": "请写上新的地点。", "en": "Please give the new place."},
    "meeting.not_on_leave": {"zh": "您没有请假（会议 {code}）。", "en": "You are not on leave from meeting {code}."},
    "meeting.deputy_self": {"zh": "不能指定自己代会。", "en": "You cannot be your own deputy."},
    "meeting.deputy_already_invited": {
        "zh": "{user} 已在会议 {code} 的名单中，无需代会。",
        "en": "{user} is already invited to meeting {code}.",
    },
    "meeting.checkin_not_open": {
        "zh": "会议 {code} 尚未开始签到（{when} 开始）。",
        "en": "Sign-in for meeting {code} is not open yet (opens {when}).",
    },
    "meeting.checkin_closed": {
        "zh": "会议 {code} 的签到已于 {when} 截止。",
        "en": "Sign-in for meeting {code} closed at {when}.",
    },
    "meeting.checkin_twice": {"zh": "您已签到过了（会议 {code}）。", "en": "You have already signed in to {code}."},
    "meeting.checkin_wrong_code": {
        "zh": "签到码不对（会议 {code}），请看群里公布的签到码。",
        "en": "Wrong sign-in code for meeting {code}; see the code posted in the room.",
    },
    "meeting.need_checkin_code": {"zh": "请写上签到码。", "en": "Please give the sign-in code."},
    "meeting.minute_empty": {"zh": "请写上纪要内容。", "en": "Please write the minutes text."},
    "meeting.action_one_person": {"zh": "请 @ 一位负责人。", "en": "Please mention exactly one person."},
    "meeting.action_no_due": {
        "zh": "请写上完成期限，例如“截止 周五前”。",
        "en": "Please give a deadline, e.g. 'by friday'.",
    },
    "meeting.action_no_title": {"zh": "请写上任务内容。", "en": "Please describe the task."},
    "meeting.voice_filed": {"zh": "已记入会议 {code} 纪要", "en": "added to the minutes of {code}"},
    # -- the board's section ---------------------------------------------------------------
    "board.meetings.title": {"zh": "会议", "en": "Meetings"},
    "board.meetings.empty": {"zh": "今明两天没有您的会议。", "en": "No meeting of yours today or tomorrow."},
    "board.meetings.when": {"zh": "时间：{when}", "en": "When: {when}"},
    "board.meetings.place": {"zh": "地点：{place}", "en": "Where: {place}"},
    "board.meetings.rsvp": {
        "zh": "回复：{attend} 人参加，{leave} 人请假，{pending} 人未回复（共 {invited} 人）",
        "en": "Replies: attending {attend}, on leave {leave}, no reply {pending} (invited {invited})",
    },
    "board.meetings.checked_in": {"zh": "签到：{count}/{invited}", "en": "Signed in: {count}/{invited}"},
    "board.meetings.mine_pending": {"zh": "您尚未回复。", "en": "You have not replied."},
    "board.meetings.mine_attend": {"zh": "您已确认参加。", "en": "You will attend."},
    "board.meetings.mine_leave": {"zh": "您已请假。", "en": "You are on leave for it."},
    "board.meetings.mine_deputy": {"zh": "您已派人代会。", "en": "You sent a deputy."},
    "board.meetings.act_yes": {"zh": "参加", "en": "Attend"},
    "board.meetings.act_no": {"zh": "请假", "en": "Leave"},
}

TEXTS: dict[str, dict[str, str]] = {**TIME_TEXTS, **_OWN}


#: One text in `lang` (zh when it is missing), for services, timers and workers, which have no
#: chat translator at hand: the framework's own lookup (bot.i18n), over this catalog alone.
render = Catalog(TEXTS).t
