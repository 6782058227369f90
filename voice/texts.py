"""User-facing texts of the voice pipeline (zh-CN default, en)."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "voice.too_large": {
        "zh": "语音文件太大（{size_mb:.1f} MB），上限为 {limit_mb:.0f} MB。",
        "en": "The voice file is too large ({size_mb:.1f} MB); the limit is {limit_mb:.0f} MB.",
    },
    "voice.too_long": {
        "zh": "语音太长，上限为 {limit}。",
        "en": "The voice message is too long; the limit is {limit}.",
    },
    "voice.corrupt": {
        "zh": "无法识别这段音频，文件可能已损坏或格式不受支持。",
        "en": "This audio could not be read; the file may be damaged or in an unsupported format.",
    },
    "voice.empty": {
        "zh": "音频为空。",
        "en": "The audio is empty.",
    },
    "voice.no_ffmpeg": {
        "zh": "服务器缺少音频解码组件，请联系管理员。",
        "en": "The server is missing its audio decoder; please contact the administrator.",
    },
    "voice.no_speech": {
        "zh": "未识别到语音内容。",
        "en": "No speech was recognised.",
    },
    "voice.progress": {
        "zh": "转写中 {percent}%",
        "en": "Transcribing {percent}%",
    },
}


def text(key: str, lang: str = "zh", **values: object) -> str:
    """Format ``key`` in ``lang`` (falls back to zh-CN, the office's language)."""
    entry = TEXTS[key]
    return entry.get(lang, entry["zh"]).format(**values)
