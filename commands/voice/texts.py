"""Texts of the voice feature (transcripts, refusals, search); the pipeline's own are merged in."""

from __future__ import annotations

from bot.i18n import Catalog
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
    # -- search -----------------------------------------------------------------------------
    "search.empty_query": {
        "zh": "请告诉我要找什么，例如：!搜索 防汛 值班",
        "en": "Tell me what to look for, e.g. !search flood duty",
    },
    "search.none": {"zh": "🔎 没有找到与“{query}”相关的记录。", "en": "🔎 Nothing found for '{query}'."},
    "search.header": {"zh": "🔎 “{query}”的搜索结果（{count} 条）：", "en": "🔎 Results for '{query}' ({count}):"},
    "search.hit": {"zh": "{code} · {when} · {author}：{snippet}", "en": "{code} · {when} · {author}: {snippet}"},
}

TEXTS: dict[str, dict[str, str]] = {**PIPELINE_TEXTS, **_OWN}


#: One text in `lang` (zh when it is missing), for services, timers and workers, which have no
#: chat translator at hand: the framework's own lookup (bot.i18n), over this catalog alone.
text = Catalog(TEXTS).t
