"""Texts of the push commands."""

TEXTS: dict[str, dict[str, str]] = {
    "group.push": {"zh": "推送", "en": "Push"},
    "push.link.dm": {
        "zh": "📲 在手机上打开下面的链接，即可开通推送（{minutes} 分钟内有效，仅能使用一次）：\n{url}",
        "en": "📲 Open this link on your phone to turn on push ({minutes} minutes, works once):\n{url}",
    },
    "push.link.sent": {
        "zh": "已通过私信把登录链接发给您。",
        "en": "I've sent you a sign-in link by direct message.",
    },
    "push.test.queued": {
        "zh": "已向您的 {count} 台设备发送测试推送。",
        "en": "Test push sent to your devices ({count}).",
    },
    "push.test.quiet": {
        "zh": "现在是您的免打扰时段，{count} 台设备的推送被暂缓。发送 !免打扰 关 可关闭免打扰。",
        "en": "You are in quiet hours: the push to your devices ({count}) was held back. Send !quiet off to turn them off.",
    },
    "push.test.none": {
        "zh": "测试推送没有发出：您还没有开通推送的设备。发送 !推送 获取登录链接，在手机上打开后点“开通本设备推送”。",
        "en": "No test push was sent: you have no device with push turned on. Send !push for a sign-in link, open it on your phone and tap \u201cTurn on push for this device\u201d.",
    },
    "push.usage.sub": {
        "zh": "未知的子命令“{value}”。用法：!推送、!推送 测试、!推送 退出全部",
        "en": "Unknown subcommand '{value}'. Usage: !push, !push test, !push signout",
    },
    "push.signout.done": {
        "zh": "已在所有浏览器上退出（{sessions} 个登录），并关闭了 {devices} 台设备的推送。需要时请重新发送 !推送。",
        "en": "Signed out everywhere (browser sessions: {sessions}); push is off on your devices ({devices}). "
        "Send !push to turn it on again.",
    },
    "push.revoke.not_admin": {
        "zh": "只有管理员可以撤销他人的登录。",
        "en": "Only an admin can revoke someone else's sign-ins.",
    },
    "push.revoke.who": {
        "zh": "请指明一个人，例如：!推送 撤销 @zhang:example.org",
        "en": "Name one person, e.g. !push revoke @zhang:example.org",
    },
    "push.revoke.done": {
        "zh": "已撤销 {user} 的 {sessions} 个登录，并关闭了其 {devices} 台设备的推送。",
        "en": "Revoked the sign-ins of {user} ({sessions}) and turned push off on their devices ({devices}).",
    },
    "quiet.current": {
        "zh": "您的免打扰时段：{hours}（{tz}）。紧急通知不受影响。",
        "en": "Your quiet hours: {hours} ({tz}). Emergency notices still come through.",
    },
    "quiet.none": {
        "zh": "您没有设置免打扰时段。例如：!免打扰 22:00-07:00",
        "en": "You have no quiet hours. Example: !quiet 22:00-07:00",
    },
    "quiet.set": {
        "zh": "免打扰时段已设为 {hours}（{tz}）。此时段内只推送紧急通知。",
        "en": "Quiet hours set to {hours} ({tz}). Only emergency notices are pushed then.",
    },
    "quiet.off": {"zh": "已关闭免打扰。", "en": "Quiet hours are off."},
    # -- the board's section ---------------------------------------------------------------
    "board.notices.title": {"zh": "通知", "en": "Notices"},
    "board.notices.empty": {"zh": "最近没有发给您的通知。", "en": "No notice was sent to you lately."},
    "board.notices.meta": {"zh": "{when} · {status}", "en": "{when} · {status}"},
    "board.notices.status_delivered": {"zh": "已送达", "en": "delivered"},
    "board.notices.status_dm": {"zh": "已私信", "en": "sent as a direct message"},
    "board.notices.status_chat": {"zh": "已在聊天中发送", "en": "sent in chat"},
    "board.notices.status_queued": {"zh": "发送中", "en": "sending"},
    "board.notices.status_retrying": {"zh": "重试中", "en": "retrying"},
    "board.notices.status_skipped_quiet": {"zh": "免打扰时段未推送", "en": "not pushed in quiet hours"},
    "quiet.bad": {
        "zh": "看不懂时段“{value}”。请写成 22:00-07:00，或发送 !免打扰 关 关闭。",
        "en": "Cannot read '{value}' as a time range. Write 22:00-07:00, or !quiet off.",
    },
}
