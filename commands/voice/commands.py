"""The voice feature's command, as users type it."""

from __future__ import annotations

from bot import Command

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
