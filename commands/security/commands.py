"""The security command, as users type it."""

from __future__ import annotations

from bot import Command
from bot.grammar import Sub, SubTable

SECURITY = Command(
    "security",
    aliases=("安全",),
    usage={"zh": "!安全 [重置 @某人]", "en": "!security [reset @someone]"},
    summary={
        "zh": "查看您用于确认签发的验证方式；管理员可重置他人的（手机丢失时）",
        "en": "Show how you confirm binding decisions; an admin resets someone's (a lost phone)",
    },
    example="!security",
    group="settings",
    # `!安全` alone shows one's own authenticators; any other first word is refused.
    subcommands=SubTable((Sub("reset", ("重置", "清除")),), ids=False),
)
