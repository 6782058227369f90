"""Texts of the board (一屏知全局), zh-CN (default) and en."""

from __future__ import annotations

from bot.i18n import Catalog
from timeparse import TEXTS as TIME_TEXTS

_OWN: dict[str, dict[str, str]] = {
    "board.card.title_all": {"zh": "📊 全局 · {when}", "en": "📊 The whole picture · {when}"},
    "board.card.title_mine": {"zh": "📋 我的待办 · {when}", "en": "📋 Waiting for me · {when}"},
    "board.card.section": {"zh": "【{title}】", "en": "[{title}]"},
    "board.card.more": {"zh": "……另有 {count} 项", "en": "… and {count} more"},
    "board.card.late": {"zh": "（{count} 项已超时）", "en": " ({count} late)"},
    "board.card.nothing": {"zh": "暂无需要您处理的事项。", "en": "Nothing waits for you."},
    "board.card.hint_all": {
        "zh": "在手机上打开看板可直接处理，登录链接已私信发给您。",
        "en": "Open the board on your phone to act on these; the sign-in link is in your direct messages.",
    },
    "board.card.sent_dm": {
        "zh": "已通过私信把看板卡片发给您。",
        "en": "I've sent you the board card by direct message.",
    },
    "board.card.hint_mine": {
        "zh": "在卡片对应的群里回复处理，或发送 !推送 在手机上登录后处理。",
        "en": "Act in the rooms of these items, or send !push to sign in on your phone.",
    },
    "board.extra": {"zh": "看不懂“{value}”。", "en": "Cannot read '{value}'."},
    "board.not_allowed": {
        "zh": "全局看板只对领导、带班领导、值班员和管理员开放。发送 !待办 查看等您处理的事。",
        "en": "The whole picture is for leaders, duty leaders, duty officers and admins. Send !today for what waits for you.",
    },
    "board.link.dm": {
        "zh": "这是全局看板的登录链接，{minutes} 分钟内有效，只能使用一次，请勿转发：\n{url}",
        "en": "Your sign-in link to the board, valid for {minutes} minutes and usable once; do not forward it:\n{url}",
    },
    "board.widget.not_allowed": {
        "zh": "只有本群管理员可以把看板挂到本群。",
        "en": "Only an admin of this room can pin the board here.",
    },
    "board.widget.no_dm": {
        "zh": "请在群里发送此命令，看板会挂到该群。",
        "en": "Send this in a room: the board is pinned there.",
    },
    "board.widget.name": {"zh": "全局看板", "en": "The board"},
    "board.widget.done": {
        "zh": "已把全局看板挂到本群，在群信息的“小组件”中打开。",
        "en": "The board is pinned in this room: open it from the room's widgets.",
    },
    "board.widget.failed": {
        "zh": "没能把看板挂到本群：本群不允许我添加小组件，请群管理员提高我的权限后再试。",
        "en": "Could not pin the board: this room does not let me add widgets; ask a room admin to raise my power level.",
    },
    "board.brief.title": {"zh": "☀️ 早安，{when} 值班简报", "en": "☀️ Good morning: the briefing for {when}"},
    "board.brief.hint": {
        "zh": "发送 !全局 查看全局并获取看板登录链接。",
        "en": "Send !board for the whole picture and a sign-in link to the board.",
    },
}

TEXTS: dict[str, dict[str, str]] = {**TIME_TEXTS, **_OWN}

#: One text in `lang`, for the briefing timer (no chat turn).
render = Catalog(TEXTS).t
