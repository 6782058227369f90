"""The general commands, as users type them."""

from __future__ import annotations

from bot import Command

PING = Command(
    "ping",
    aliases=("在吗",),
    usage={"zh": "!在吗", "en": "!ping"},
    summary={"zh": "检查助手是否在线", "en": "Check that Zhiban is online"},
    group="daily",
)
LANG = Command(
    "lang",
    aliases=("语言",),
    usage={"zh": "!语言 [zh|en]", "en": "!lang [zh|en]"},
    summary={"zh": "查看或切换回复语言", "en": "Show or change the language of replies"},
    example="!lang en",
    group="settings",
)
TZ = Command(
    "tz",
    aliases=("时区",),
    usage={"zh": "!时区 [地区/城市]", "en": "!tz [Region/City]"},
    summary={"zh": "查看或设置您的时区（默认 Asia/Shanghai）", "en": "Show or set your time zone"},
    example="!tz Asia/Shanghai",
    group="settings",
)
WHOAMI = Command(
    "whoami",
    aliases=("我是谁",),
    usage={"zh": "!我是谁", "en": "!whoami"},
    summary={"zh": "查看您的角色和设置", "en": "Show your roles and settings"},
    group="daily",
)
