"""Correcting a transcript: `!更正 <text>` in reply, or a reply with the right text.

A reply counts as a correction only when it plainly is one: it replies to a voice message or
its transcript, comes from the speaker or an admin, and keeps at least half of the transcript
(a "收到" or a follow-up question in reply is conversation, left to the other handlers).
`!更正` is explicit: it is always taken, and refused to anyone else with the reason.
"""

from __future__ import annotations

import difflib
from collections.abc import Awaitable, Callable, Sequence

from bot import UNHANDLED, CommandObject, Message, UserFacingError
from commands.plugin import VoiceFiler
from commands.turn import Turn
from commands.voice import corrections
from commands.voice.models import VoiceNote

#: A plain reply whose text keeps less than this share of the transcript is not a correction.
MIN_SIMILARITY = 0.5


async def _is_admin(turn: Turn, user: str) -> bool:
    return "admin" in await turn.resolve_roles(user)


async def _apply(message: Message, turn: Turn, note: VoiceNote, text: str, filers: Sequence[VoiceFiler]) -> None:
    done = await corrections.correct_note(
        turn.session,
        note,
        corrector=message.sender,
        text=text,
        is_admin=await _is_admin(turn, message.sender),
        clock=turn.clock,
        filers=filers,
    )
    reply = turn.t("voice.correct.done", code=note.code)
    if done.learnt:
        pairs = "、".join(f"{p.heard} → {p.right}" for p in done.learnt)
        reply += turn.t("voice.correct.learnt", pairs=pairs)
    await message.reply(reply, in_thread=True)


OnCommand = Callable[[Message, CommandObject, Turn], Awaitable[None]]
OnReply = Callable[[Message, Turn], Awaitable[object]]  # UNHANDLED when the reply is no correction


def handlers(filers: Sequence[VoiceFiler]) -> tuple[OnCommand, OnReply]:
    """(the `!更正` handler, the plain-reply handler), filing corrections with ``filers``."""

    async def on_command(message: Message, command: CommandObject, turn: Turn) -> None:
        text = command.args.strip()
        if not message.reply_to:
            raise UserFacingError("voice.correct.no_note", usage_of="correct")
        note = await corrections.note_for_reply(turn.session, message.room_id, message.reply_to)
        if note is None:
            raise UserFacingError("voice.correct.no_note", usage_of="correct")
        if not text:
            raise UserFacingError("voice.correct.empty", usage_of="correct")
        await _apply(message, turn, note, text, filers)

    async def on_reply(message: Message, turn: Turn) -> object:
        if not message.reply_to:
            return UNHANDLED
        note = await corrections.note_for_reply(turn.session, message.room_id, message.reply_to)
        if note is None or note.status != "done" or not note.text:
            return UNHANDLED
        text = " ".join((message.body or "").split())
        if not text or text == note.text:
            return UNHANDLED
        if message.sender != note.sender and not await _is_admin(turn, message.sender):
            return UNHANDLED  # someone answering the speaker, not correcting them
        if len(text) > 2 * len(note.text) + 20:
            return UNHANDLED  # far longer than what was said: conversation, and no quadratic diff
        matcher = difflib.SequenceMatcher(None, note.text, text, autojunk=False)
        if matcher.quick_ratio() < MIN_SIMILARITY or matcher.ratio() < MIN_SIMILARITY:
            return UNHANDLED
        await _apply(message, turn, note, text, filers)
        return None

    return on_command, on_reply
