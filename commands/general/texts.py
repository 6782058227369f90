"""Texts of the general commands."""

TEXTS = {
    "group.general": {"zh": "通用", "en": "General"},
    "ping.pong": {"zh": "🏓 在线。值班助手随时待命。", "en": "🏓 Online. Zhiban is on duty."},
    "lang.current": {
        "zh": "当前语言：中文。发送 !语言 en 切换为英文。",
        "en": "Current language: English. Send !lang zh to switch to Chinese.",
    },
    "lang.set": {"zh": "好的，以后用中文回复您。", "en": "OK, I will answer you in English from now on."},
    "lang.unknown": {
        "zh": "不支持的语言“{value}”。可选：zh（中文）、en（English）。",
        "en": "Unsupported language '{value}'. Choose zh (中文) or en (English).",
    },
    "tz.current": {"zh": "您的时区：{tz}（当前时间 {now}）。", "en": "Your time zone: {tz} (now {now})."},
    "tz.set": {"zh": "时区已设为 {tz}，当前时间 {now}。", "en": "Time zone set to {tz}; it is now {now}."},
    "tz.unknown": {
        "zh": "不认识的时区“{value}”。请用地区/城市格式，例如 Asia/Shanghai、Europe/London。",
        "en": "Unknown time zone '{value}'. Use Region/City, e.g. Asia/Shanghai or Europe/London.",
    },
    "whoami.text": {
        "zh": "您是 {user}，角色：{roles}。语言：{lang}，时区：{tz}。",
        "en": "You are {user}; roles: {roles}. Language: {lang}; time zone: {tz}.",
    },
    # Role ids as people say them; a role the office added itself is shown as written.
    "whoami.role.leader": {"zh": "领导", "en": "leader"},
    "whoami.role.duty_leader": {"zh": "带班领导", "en": "duty leader"},
    "whoami.role.duty_officer": {"zh": "值班员", "en": "duty officer"},
    "whoami.role.staff": {"zh": "工作人员", "en": "staff"},
    "whoami.role.admin": {"zh": "管理员", "en": "admin"},
    "whoami.role.room_admin": {"zh": "本群管理员", "en": "admin of this room"},
    "whoami.roles.sep": {"zh": "、", "en": ", "},
    "whoami.lang.zh": {"zh": "中文", "en": "Chinese"},
    "whoami.lang.en": {"zh": "英文", "en": "English"},
    "welcome.joined": {
        "zh": "👋 大家好，我是值班助手。发送 !帮助 查看我能做什么。",
        "en": "👋 Hello, I'm Zhiban, the duty assistant. Send !help to see what I can do.",
    },
}
