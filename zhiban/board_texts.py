"""Texts of the board's actions that no feature writes (the features' own replies are reused)."""

from __future__ import annotations

TEXTS = {
    "board.unknown_ref": {
        "zh": "找不到 {ref}，或您无权查看。",
        "en": "There is no {ref}, or you may not see it.",
    },
    "board.not_here": {
        "zh": "{ref} 不能在看板上「{action}」，请在聊天中办理。",
        "en": "{ref} cannot be handled with '{action}' from the board; please use chat.",
    },
    "board.key_reused": {
        "zh": "这个操作的编号已用于另一项操作，未办理。请刷新看板后重试。",
        "en": "This action's key was already used for another action; nothing was done. Reload the board and try again.",
    },
    "board.need_percent": {
        "zh": "请填写进度（0–100）。",
        "en": "Give the progress (0–100).",
    },
    "board.confirm_on_phone": {
        "zh": "{code} 的“{step}”需要在手机上确认，尚未作出决定。正在打开确认页面（{minutes} 分钟内有效）……",
        "en": "'{step}' of {code} must be confirmed on your phone; nothing is decided yet. "
        "Opening the confirmation page (valid for {minutes} minutes)…",
    },
    "board.task_done": {
        "zh": "☑️ {code} 已报完成，等待 {assigner} 验收。",
        "en": "☑️ {code} reported done; {assigner} is to accept it.",
    },
}
