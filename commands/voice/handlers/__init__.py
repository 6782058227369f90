"""The voice feature's chat side: one router, made fresh for each dispatcher."""

from __future__ import annotations

from collections.abc import Sequence

from bot import IsReply, Router, Voice
from bot.filters import PlainText
from commands.plugin import VoiceFiler
from commands.voice.commands import CORRECT, GLOSSARY, SEARCH, TRANSCRIBE
from commands.voice.handlers import correct, glossary, recording, search, voice


def router(filers: Sequence[VoiceFiler] = ()) -> Router:
    """``filers``: the other features' voice filers, so that a corrected transcript's filed
    copy (minutes, timeline, progress) follows the correction."""
    made = Router("voice")
    made.message(Voice())(voice.on_voice)
    on_file, on_transcribe = recording.handlers(filers)
    made.message(recording.is_recording_file)(on_file)
    made.message(TRANSCRIBE)(on_transcribe)
    made.message(SEARCH)(search.search)
    on_command, on_reply = correct.handlers(filers)
    made.message(CORRECT)(on_command)
    made.message(GLOSSARY)(glossary.glossary)
    # Last: a reply that is no correction goes on to whatever else wants it.
    made.message(IsReply(), PlainText())(on_reply)
    return made
