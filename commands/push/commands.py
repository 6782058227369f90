"""The push commands, as users type them."""

from __future__ import annotations

from bot import Command
from bot.grammar import Sub, SubTable

PUSH = Command(
    "push",
    aliases=("推送",),
    usage={"zh": "!推送 [测试|退出全部|撤销 @某人]", "en": "!push [test|signout|revoke @someone]"},
    summary={
        "zh": "获取手机推送的登录链接；测试 发送测试推送；退出全部 在所有浏览器上退出并关闭推送",
        "en": "Get a sign-in link for phone push; 'test' sends a test push; 'signout' signs out everywhere",
    },
    example="!push test",
    group="settings",
    # `!推送` alone sends the sign-in link; any other first word is refused.
    subcommands=SubTable(
        (
            Sub("test", ("测试",)),
            Sub("signout", ("logout", "退出", "退出全部", "全部退出")),
            Sub("revoke", ("撤销", "吊销")),
        ),
        ids=False,
    ),
)
QUIET = Command(
    "quiet",
    aliases=("免打扰",),
    usage={"zh": "!免打扰 [22:00-07:00|off]", "en": "!quiet [22:00-07:00|off]"},
    summary={
        "zh": "查看或设置免打扰时段（紧急通知除外）",
        "en": "Show or set quiet hours (emergencies still come through)",
    },
    example="!quiet 22:00-07:00",
    group="settings",
)
