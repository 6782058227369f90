"""The voice feature's command, as users type it."""

from __future__ import annotations

from bot import Command
from bot.grammar import Sub, SubTable

SEARCH = Command(
    "search",
    aliases=("搜索",),
    usage={"zh": "!搜索 <关键词>", "en": "!search <words>"},
    summary={
        "zh": "搜索您能看到的语音转写记录（本房间的，以及您自己发的）",
        "en": "Search the voice transcripts you may see (this room's, and your own)",
    },
    example="!搜索 防汛 值班",
)

CORRECT = Command(
    "correct",
    aliases=("更正",),
    usage={
        "zh": "回复语音或它的转写：!更正 <正确的文字>",
        "en": "In reply to a voice message or its transcript: !correct <the right text>",
    },
    summary={
        "zh": "更正一条语音的转写（说话人本人或管理员），值班助手会记住常见的听错",
        "en": "Correct a voice transcript (the speaker or an admin); common mishearings are remembered",
    },
    example="!更正 请各位值班员今晚到岗",
    group="voice",
)

GLOSSARY_SUBS = SubTable(
    (
        Sub("add", ("加", "添加", "增加")),
        Sub("remove", ("删", "删除")),
        Sub("forget", ("忘记",)),
    ),
    ids=False,
)

GLOSSARY = Command(
    "glossary",
    aliases=("词表",),
    usage={
        "zh": "!词表 查看；!词表 加 <词>、!词表 删 <词>（管理员）；!词表 忘记 <听错的词>（管理员）",
        "en": "!glossary to show; !glossary add <term>, !glossary remove <term> (admins); "
        "!glossary forget <misheard> (admins)",
    },
    summary={
        "zh": "查看转写词表和更正记忆，管理员可增删词语",
        "en": "Show the transcription glossary and the correction memory; admins edit them",
    },
    example="!词表 加 青石桥村",
    group="voice",
    subcommands=GLOSSARY_SUBS,
)

TRANSCRIBE = Command(
    "transcribe",
    aliases=("转写",),
    usage={
        "zh": "回复一个音频或视频文件（会议、电话录音）：!转写",
        "en": "In reply to an audio or video file (a meeting, a phone call): !transcribe",
    },
    summary={
        "zh": "转写整段录音，会议话题中的录音转为带时间戳的纪要草稿",
        "en": "Transcribe a whole recording; in a meeting's thread it becomes a timestamped draft of the minutes",
    },
    example="!转写",
    group="voice",
)
