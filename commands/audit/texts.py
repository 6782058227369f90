"""Texts of the audit checkpoints (posted to the audit room)."""

from bot.i18n import Catalog

TEXTS = {
    "audit.checkpoint": {
        "zh": "🔏 审计检查点：截至 {at}，审计记录共 {seq} 条，链头 {head}。签名 {hmac}",
        "en": "🔏 Audit checkpoint: {seq} entries as of {at}, head {head}. Signature {hmac}",
    },
    "audit.broken": {
        "zh": "⚠️ 审计记录校验未通过：第 {seq} 条有误。本次未生成检查点，请运行 zhiban audit verify 查看详情。",
        "en": "⚠️ The audit trail does not verify (entry {seq}): {reason}. No checkpoint was taken; "
        "run `zhiban audit verify` for details.",
    },
}


#: One text in `lang` (zh when it is missing), for services, timers and workers, which have no
#: chat translator at hand: the framework's own lookup (bot.i18n), over this catalog alone.
tr = Catalog(TEXTS).t
