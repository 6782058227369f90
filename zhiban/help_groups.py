"""How `!帮助` groups Zhiban's commands: seven groups an office worker recognises, in the order
of a working day (日常 first, 设置 last), with short names for the index."""

from __future__ import annotations

from bot.help import HelpGroups

HELP_GROUPS = HelpGroups(
    order=("daily", "approvals", "meetings", "tasks", "emergency", "voice", "settings"),
    # A feature whose commands name no group of their own, by its router's name.
    by_router={"voice": "voice", "general": "daily"},
)

TEXTS: dict[str, dict[str, str]] = {
    "help.group.daily": {"zh": "日常", "en": "Everyday"},
    "help.group.approvals": {"zh": "审批", "en": "Approvals"},
    "help.group.meetings": {"zh": "会议", "en": "Meetings"},
    "help.group.tasks": {"zh": "督办", "en": "Tasks"},
    "help.group.emergency": {"zh": "应急", "en": "Emergency"},
    "help.group.voice": {"zh": "语音", "en": "Voice"},
    "help.group.settings": {"zh": "设置", "en": "Settings"},
}
