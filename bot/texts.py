"""The framework's own texts."""

TEXTS = {
    "error.unknown_command": {
        "zh": "未知命令 {prefix}{name}。发送 {prefix}帮助 查看全部命令。",
        "en": "Unknown command {prefix}{name}. Send {prefix}help to list the commands.",
    },
    "error.did_you_mean": {"zh": "您是不是想用 {prefix}{name}？", "en": "Did you mean {prefix}{name}?"},
    "error.internal": {
        "zh": "⚠️ 处理时出错了，已记录。请稍后再试；如仍有问题请联系管理员。",
        "en": "⚠️ Something went wrong on our side and it was logged. Please try again later.",
    },
    "error.too_long": {
        "zh": "⚠️ 消息太长（{size} 字），上限为 {limit} 字。请分成几条发送。",
        "en": "⚠️ That message is too long ({size} characters; the limit is {limit}). Please split it.",
    },
    "error.too_complex": {
        "zh": "这条消息处理太久了，请简化后再发一次（例如写短一些，或分成几条）。",
        "en": "That took too long to work out. Please simplify it (shorter, or split into several messages).",
    },
    "error.prefix": {"zh": "⚠️ {message}", "en": "⚠️ {message}"},
    "usage.title": {"zh": "用法：", "en": "Usage:"},
    "usage.example": {"zh": "示例：", "en": "Example:"},
    "help.title": {"zh": "📋 值班助手命令", "en": "📋 Zhiban commands"},
    "help.footer": {
        "zh": "发送 {prefix}帮助 <组名> 查看一组命令（如 {prefix}帮助 日常），{prefix}帮助 <命令> 查看用法和示例。也可以用 ！ 代替 !。",
        "en": "Send {prefix}help <group> for a group's commands (e.g. {prefix}help everyday), "
        "{prefix}help <command> for usage and an example. The full-width ！ works too.",
    },
    "help.group_footer": {
        "zh": "发送 {prefix}帮助 <命令> 查看某个命令的用法和示例。",
        "en": "Send {prefix}help <command> for a command's usage and an example.",
    },
    "help.many": {
        "zh": "有 {count} 个命令叫“{name}”：",
        "en": "{count} commands are called '{name}':",
    },
    "help.aliases": {"zh": "别名：", "en": "Aliases:"},
    "help.unknown": {
        "zh": "没有名为 {name} 的命令。发送 {prefix}帮助 查看全部命令。",
        "en": "There is no command named {name}. Send {prefix}help to list them.",
    },
    "fsm.cancelled": {"zh": "已取消。", "en": "Cancelled."},
    "people.unknown": {
        "zh": "找不到用户 {who}：本群成员和通讯录里都没有此人。请用 @ 选择对方，或写完整的账号（如 @chu:example.org）。",
        "en": "No such user {who}: nobody in this room or the office directory. "
        "Pick them with @, or write the full ID (e.g. @chu:example.org).",
    },
    "people.unknown_suggest": {
        "zh": "找不到用户 {who}。您是不是指：{suggest}？",
        "en": "No such user {who}. Did you mean: {suggest}?",
    },
    "people.ambiguous": {
        "zh": "{who} 不止一人：{choices}。请用 @ 选择对方，或写完整的账号。",
        "en": "{who} could be more than one person: {choices}. Pick them with @, or write the full ID.",
    },
}
