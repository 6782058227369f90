"""Texts of the voice feature (transcripts, refusals, search); the pipeline's own are merged in."""

from __future__ import annotations

from bot.i18n import Catalog
from commands.voice.recording_texts import RECORDING_TEXTS
from voice.texts import TEXTS as PIPELINE_TEXTS

_OWN: dict[str, dict[str, str]] = {
    "group.voice": {"zh": "语音与检索", "en": "Voice and search"},
    # -- the transcript reply -------------------------------------------------------------
    "voice.transcript": {
        "zh": "🎙️ 语音转写（{language}，{duration}）：\n{text}",
        "en": "🎙️ Voice transcript ({language}, {duration}):\n{text}",
    },
    "voice.lang.zh": {"zh": "中文", "en": "Chinese"},
    "voice.lang.en": {"zh": "英文", "en": "English"},
    "voice.seconds": {"zh": "{n} 秒", "en": "{n} s"},
    "voice.filed": {"zh": "📁 {where}", "en": "📁 {where}"},
    "voice.filed.timeline": {"zh": "已记入 {code} 事件时间线", "en": "Added to the timeline of {code}"},
    "voice.filed.progress": {"zh": "已记入 {code} 任务进展", "en": "Added to the progress notes of {code}"},
    "voice.filed.minutes": {"zh": "已记入 {code} 会议纪要", "en": "Added to the minutes of {code}"},
    "voice.filed.report": {
        "zh": "已填入 {code} 报告，请核对后确认",
        "en": "Filled into report {code}; please check and confirm",
    },
    "voice.progress.reply": {
        "zh": "🎙️ 转写中 {percent}%（约 {seconds} 秒的语音）",
        "en": "🎙️ Transcribing {percent}% (about {seconds} s of audio)",
    },
    "voice.failed": {"zh": "⚠️ 语音转写失败：{reason}", "en": "⚠️ Could not transcribe: {reason}"},
    "voice.engine_failed": {
        "zh": "转写服务暂时不可用，请稍后重试或改发文字。",
        "en": "The transcription service is unavailable; please try again later or type the message.",
    },
    # -- refusals before any work -----------------------------------------------------------
    "voice.refuse.unauthorized": {
        "zh": "⚠️ 您未获授权使用语音转写，请联系管理员。",
        "en": "⚠️ You are not authorised to use voice transcription; please contact the administrator.",
    },
    "voice.refuse.too_large": {
        "zh": "⚠️ 语音文件太大（{size_mb} MB），上限为 {limit_mb} MB，未转写。",
        "en": "⚠️ The voice file is too large ({size_mb} MB; the limit is {limit_mb} MB); not transcribed.",
    },
    "voice.refuse.too_long": {
        "zh": "⚠️ 语音太长（{seconds} 秒），上限为 {limit} 秒，未转写。请分段发送。",
        "en": "⚠️ The voice message is too long ({seconds} s; the limit is {limit} s); not transcribed. "
        "Please send it in parts.",
    },
    "voice.refuse.no_file": {
        "zh": "⚠️ 这条语音没有附带音频文件。",
        "en": "⚠️ This voice message carries no audio file.",
    },
    "voice.refuse.download": {
        "zh": "⚠️ 无法获取这条语音的音频，请重新发送。",
        "en": "⚠️ The audio of this voice message could not be fetched; please send it again.",
    },
    "voice.refuse.decrypt": {
        "zh": "⚠️ 无法解密这条语音的音频，请重新发送。",
        "en": "⚠️ The audio of this voice message could not be decrypted; please send it again.",
    },
    "voice.refuse.disabled": {
        "zh": "⚠️ 语音转写未启用。",
        "en": "⚠️ Voice transcription is turned off.",
    },
    # -- corrections (!更正, or a reply with the right text) ------------------------------------
    "voice.corrected": {"zh": "✏️ 已人工更正", "en": "✏️ Corrected by hand"},
    "voice.correct.done": {"zh": "✏️ 已更正 {code} 的转写。", "en": "✏️ The transcript of {code} is corrected."},
    "voice.correct.learnt": {
        "zh": "已记下：{pairs}。",
        "en": "Remembered: {pairs}.",
    },
    "voice.correct.refused": {
        "zh": "只有说话人本人或管理员可以更正 {code} 的转写。",
        "en": "Only the speaker or an admin may correct the transcript of {code}.",
    },
    "voice.correct.not_ready": {
        "zh": "{code} 还没有转写好，转写完成后再更正。",
        "en": "{code} has no transcript yet; correct it once it is transcribed.",
    },
    "voice.correct.same": {
        "zh": "{code} 的转写已经是这段文字，无需更正。",
        "en": "The transcript of {code} already says that; nothing to correct.",
    },
    "voice.correct.empty": {
        "zh": "请写出正确的文字。",
        "en": "Please write the right text.",
    },
    "voice.correct.no_note": {
        "zh": "请回复一条语音或它的转写来更正。",
        "en": "Reply to a voice message or its transcript to correct it.",
    },
    # -- the glossary and the correction memory (!词表) ----------------------------------------
    "glossary.header": {
        "zh": "📖 转写词表（{count} 个词）：\n{terms}",
        "en": "📖 Transcription glossary ({count} terms):\n{terms}",
    },
    "glossary.office": {
        "zh": "本单位添加：{added}",
        "en": "Added by the office: {added}",
    },
    "glossary.office_removed": {
        "zh": "本单位删除：{removed}",
        "en": "Removed by the office: {removed}",
    },
    "glossary.memory_header": {
        "zh": "🧠 更正记忆（{count} 条；{confirmations} 人确认或经管理员更正后生效）：",
        "en": "🧠 Correction memory ({count}; in force once {confirmations} people confirm it or an admin does):",
    },
    "glossary.memory_empty": {"zh": "🧠 更正记忆：暂无。", "en": "🧠 Correction memory: none yet."},
    "glossary.memory_count": {
        "zh": "🧠 更正记忆：{count} 条，明细仅管理员可见。",
        "en": "🧠 Correction memory: {count}; only an admin sees them.",
    },
    "glossary.memory_sent_dm": {
        "zh": "🧠 更正记忆：{count} 条，明细已私信发给你。",
        "en": "🧠 Correction memory: {count}; the full list is sent to you in a direct message.",
    },
    "glossary.memory_more": {
        "zh": "……另有 {count} 条未列出，可用“!词表 忘记 <误听>”删除。",
        "en": "… and {count} more; !glossary forget <misheard> removes one.",
    },
    "glossary.memory_line": {
        "zh": "{heard} → {right}（{count} 人确认，{state}）",
        "en": "{heard} → {right} (confirmed by {count}, {state})",
    },
    "glossary.memory_admin": {"zh": "管理员已确认", "en": "confirmed by an admin"},
    "glossary.memory_on": {"zh": "生效中", "en": "in force"},
    "glossary.memory_waiting": {"zh": "待确认", "en": "waiting for confirmation"},
    "glossary.refused": {
        "zh": "只有管理员可以修改词表和更正记忆。",
        "en": "Only an admin may edit the glossary and the correction memory.",
    },
    "glossary.added": {"zh": "✅ 已将“{term}”加入词表。", "en": "✅ '{term}' is added to the glossary."},
    "glossary.removed": {"zh": "✅ 已将“{term}”从词表删除。", "en": "✅ '{term}' is removed from the glossary."},
    "glossary.forgot": {
        "zh": "✅ 已忘记：{heard} → {rights}。",
        "en": "✅ Forgotten: {heard} → {rights}.",
    },
    "glossary.already": {"zh": "“{term}”已在词表中。", "en": "'{term}' is already in the glossary."},
    "glossary.not_found": {"zh": "词表中没有“{term}”。", "en": "'{term}' is not in the glossary."},
    "glossary.memory_not_found": {
        "zh": "更正记忆中没有“{heard}”。",
        "en": "The correction memory has no '{heard}'.",
    },
    "glossary.bad_term": {
        "zh": "词表中的词须为 2 到 16 个字，不含空格和标点：“{term}”不行。",
        "en": "A glossary term is 2 to 16 letters, without spaces or punctuation: '{term}' is not.",
    },
    "glossary.not_office": {
        "zh": "词表只对本单位的人员开放。",
        "en": "The glossary is open to the office's people only.",
    },
    "glossary.missing_term": {"zh": "请写出要处理的词。", "en": "Please name the term."},
    # -- search -----------------------------------------------------------------------------
    "search.empty_query": {
        "zh": "请告诉我要找什么，例如：!搜索 防汛 值班",
        "en": "Tell me what to look for, e.g. !search flood duty",
    },
    "search.none": {"zh": "🔎 没有找到与“{query}”相关的记录。", "en": "🔎 Nothing found for '{query}'."},
    "search.header": {"zh": "🔎 “{query}”的搜索结果（{count} 条）：", "en": "🔎 Results for '{query}' ({count}):"},
    "search.hit": {"zh": "{code} · {when} · {author}：{snippet}", "en": "{code} · {when} · {author}: {snippet}"},
}

TEXTS: dict[str, dict[str, str]] = {**PIPELINE_TEXTS, **_OWN, **RECORDING_TEXTS}


#: One text in `lang` (zh when it is missing), for services, timers and workers, which have no
#: chat translator at hand: the framework's own lookup (bot.i18n), over this catalog alone.
text = Catalog(TEXTS).t
