"""The board's commands, as users type them."""

from __future__ import annotations

from bot import Command
from bot.grammar import Sub, SubTable

BOARD = Command(
    "board",
    aliases=("全局",),
    usage={"zh": "!全局 [挂件]", "en": "!board [widget]"},
    summary={
        "zh": "一屏知全局：应急、审批、督办、会议、值班一览，并私信看板登录链接；挂件 把看板挂到本群",
        "en": "The whole picture in one card, and a sign-in link to the board by DM; 'widget' pins the board in this room",
    },
    example="!board",
    group="daily",
    subcommands=SubTable((Sub("widget", ("挂件", "小组件")),), ids=False),
)
TODAY = Command(
    "today",
    aliases=("今日", "待办", "todo"),
    usage={"zh": "!待办", "en": "!today"},
    summary={"zh": "今天等我处理的事：待审批、督办、会议回复、指令确认", "en": "What waits for me today"},
    example="!today",
    group="daily",
)
