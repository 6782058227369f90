"""Texts of the audit checkpoints (posted to the audit room)."""

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


def tr(key: str, lang: str | None, /, **params: object) -> str:
    """One text in `lang` (zh when missing): these are written by workers, with no chat translator."""
    variants = TEXTS[key]
    return (variants.get(lang or "zh") or variants["zh"]).format(**params)
