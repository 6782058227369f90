"""Texts of whole recordings (`!转写`): progress, the transcript, refusals."""

from __future__ import annotations

RECORDING_TEXTS: dict[str, dict[str, str]] = {
    "recording.queued": {
        "zh": "🎙️ 已收到录音 {code}，正在准备转写…",
        "en": "🎙️ Recording {code} received; preparing the transcript…",
    },
    "recording.progress": {
        "zh": "🎙️ {code} 转写中 {done}/{total} 段（{percent}%）",
        "en": "🎙️ {code} transcribing {done}/{total} chunks ({percent}%)",
    },
    "recording.filed": {
        "zh": "✅ {code} 转写完成（{duration}，{count} 段落），已作为草稿记入 {meeting} 会议纪要。",
        "en": "✅ {code} transcribed ({duration}, {count} paragraphs); added to the minutes of {meeting} as a draft.",
    },
    "recording.transcript": {
        "zh": "✅ {code} 转写完成（{duration}）：\n{text}",
        "en": "✅ {code} transcribed ({duration}):\n{text}",
    },
    "recording.transcript_file": {
        "zh": "✅ {code} 转写完成（{duration}），全文较长，见本话题中的附件 {file}。",
        "en": "✅ {code} transcribed ({duration}); the text is long: see the attachment {file} in this thread.",
    },
    "recording.file_heading": {
        "zh": "录音 {code} 转写稿（{duration}）",
        "en": "Recording {code}: transcript ({duration})",
    },
    "recording.no_speech": {
        "zh": "⚠️ {code} 中没有听到说话。",
        "en": "⚠️ No speech was heard in {code}.",
    },
    "recording.failed": {"zh": "⚠️ {code} 转写失败：{reason}", "en": "⚠️ Could not transcribe {code}: {reason}"},
    "recording.refuse.no_file": {
        "zh": "请回复一个音频或视频文件：!转写",
        "en": "Reply to an audio or video file: !transcribe",
    },
    "recording.refuse.not_media": {
        "zh": "⚠️ 这条消息不是音频或视频文件，无法转写。",
        "en": "⚠️ That message is not an audio or video file; it cannot be transcribed.",
    },
    "recording.refuse.minutes": {
        "zh": "⚠️ 只有能为 {meeting} 记纪要的参会人可以转写这段录音。",
        "en": "⚠️ Only those who may add to the minutes of {meeting} can have this recording transcribed.",
    },
    "recording.refuse.not_sender": {
        "zh": "⚠️ 会议话题之外，只有发送录音的人可以要求转写。",
        "en": "⚠️ Outside a meeting's thread, only whoever sent the recording can have it transcribed.",
    },
    "recording.refuse.too_large": {
        "zh": "⚠️ 录音文件 {size_mb} MB，超过上限 {limit_mb} MB，未转写。",
        "en": "⚠️ The recording is {size_mb} MB, over the {limit_mb} MB limit; not transcribed.",
    },
    "recording.refuse.too_long": {
        "zh": "⚠️ 录音长 {seconds} 秒，超过上限 {limit} 秒，未转写。",
        "en": "⚠️ The recording is {seconds} s long, over the {limit} s limit; not transcribed.",
    },
    "recording.already": {
        "zh": "这段录音已在转写或已转写（{code}）。",
        "en": "This recording is already being (or was) transcribed ({code}).",
    },
}
