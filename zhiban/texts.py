"""Texts the bot's own machinery writes (not a chat feature): the outbox relay's failure notices."""

from __future__ import annotations

from bot.i18n import Catalog

TEXTS = {
    "outbox.failed_duty": {
        "zh": "⚠️ 有一条消息无法送达 {target}，已停止重试（原因：{reason}）。内容：{excerpt}",
        "en": "⚠️ A message could not be delivered to {target} and will not be retried (reason: {reason}). "
        "It said: {excerpt}",
    },
    "outbox.failed_causer": {
        "zh": "⚠️ 您操作产生的一条消息无法送达 {target}（原因：{reason}），请改用其他方式通知。内容：{excerpt}",
        "en": "⚠️ A message caused by your action could not be delivered to {target} (reason: {reason}); "
        "please reach them another way. It said: {excerpt}",
    },
    "outbox.reason.forbidden": {
        "zh": "机器人无权在该处发言（可能已被移出或封禁）",
        "en": "the bot may not post there (removed or banned?)",
    },
    "outbox.reason.not_found": {"zh": "房间或用户不存在", "en": "the room or person does not exist"},
    "outbox.reason.invalid": {"zh": "消息被服务器拒收", "en": "the homeserver rejected the message"},
}


#: One text in `lang` (zh when it is missing), for services, timers and workers, which have no
#: chat translator at hand: the framework's own lookup (bot.i18n), over this catalog alone.
tr = Catalog(TEXTS).t
