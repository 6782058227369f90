"""Texts the bot's own machinery writes (not a chat feature): the outbox relay's failure notices,
the step-up wiring's refusals."""

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
    # A confirmed step-up request this version cannot carry out (zhiban.stepup_wiring).
    "stepup.unknown_kind": {
        "zh": "这项确认无法完成：此版本不支持该类事项，未作任何决定。请在聊天中重新办理。",
        "en": "This confirmation cannot be completed: this version does not handle its kind, and nothing "
        "was decided. Please start again in chat.",
    },
    # A refusal met while completing whose key has no text anywhere (zhiban.stepup_wiring).
    "stepup.refused": {
        "zh": "这项确认未能完成，未作任何决定。请回到聊天中查看该事项的当前状态后重新办理。",
        "en": "This confirmation could not be completed and nothing was decided. Please check the "
        "matter's current state in chat and start again there.",
    },
}


#: One text in `lang` (zh when it is missing), for services, timers and workers, which have no
#: chat translator at hand: the framework's own lookup (bot.i18n), over this catalog alone.
tr = Catalog(TEXTS).t
