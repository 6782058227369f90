"""What people read from the notification service: DM fallbacks and content-free pushes."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "push.sensitive.title": {"zh": "您有一条新事项", "en": "You have a new item"},
    "push.sensitive.body": {"zh": "请打开值班助手查看。", "en": "Open Zhiban to see it."},
    "push.dm": {"zh": "🔔 {title}\n{body}", "en": "🔔 {title}\n{body}"},
    "push.dm.link": {"zh": "\n详情：{url}", "en": "\nDetails: {url}"},
    "push.test.title": {"zh": "测试推送", "en": "Test push"},
    # The introduction before the first DM anyone gets from the bot (notifications.welcome).
    "welcome.dm": {
        "zh": "您好，我是值班助手，在聊天里帮您办理审批、会议、督办、提醒和应急值守。\n"
        "需要您处理的事项会通过这个私信发给您：直接回复，或在消息上点 ✅。\n"
        "发送 !帮助 看我能做什么，发送 !帮助 <命令> 看用法和示例。",
        "en": "Hello, I am Zhiban, the office assistant: approvals, meetings, tasks, reminders and emergency duty, "
        "all in chat.\nWhat needs you reaches you in this chat: answer here, or react ✅ on the message.\n"
        "Send !help to see what I can do, and !help <command> for how, with an example.",
    },
    "push.test.body": {
        "zh": "看到这条消息，说明本设备的推送已开通。",
        "en": "If you can read this, push works on this device.",
    },
    "push.test.no_device": {
        "zh": "测试推送没有发出：您还没有开通推送的设备。请先点上方的“开通本设备推送”，再发送测试推送。",
        "en": "No test push was sent: no device of yours has push turned on. "
        "Tap \u201cTurn on push for this device\u201d above first, then send a test push.",
    },
}


def text(key: str, lang: str, **params: object) -> str:
    entry = TEXTS[key]
    template = entry.get(lang) or entry["zh"]
    return template.format(**params) if params else template
