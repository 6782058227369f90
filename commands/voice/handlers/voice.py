"""Receiving a voice message: the cheap checks, then the note and the fetch of its audio.

Receiving does the cheap checks first (who sent it, the declared size and duration), then
records the note and queues the fetch of its audio as an outbox action ahead of the ⏳
(commands/voice/fetch.py): the bot's relay downloads it once this transaction has committed,
and hands the bytes to the worker through the database (see commands/voice/models.py). The
handler neither downloads nor transcribes, and returns in milliseconds.
"""

from __future__ import annotations

from bot import Message
from commands.turn import Turn
from commands.voice import service
from commands.voice.fetch import queue_fetch
from commands.voice.jobs import job_options
from records import outbox_actions
from records.errors import DomainError


async def _refuse(message: Message, text: str) -> None:
    """Refusals are answers, not errors: ⚠️ on the voice message and the reason in its thread."""
    await message.react("⚠️")
    await message.reply(text, in_thread=True)


async def on_voice(message: Message, turn: Turn) -> None:
    settings = turn.settings
    voice = settings.voice
    if not voice.enabled:
        return  # the office turned it off: voice messages are just messages
    office = [*settings.matrix.allowed_servers, *settings.matrix.allowed_users]
    if not service.may_send_voice(message.sender, allowed=voice.allowed_users, office=office):
        await _refuse(message, turn.t("voice.refuse.unauthorized"))
        return
    media = message.media
    if media is None or not media.url:
        await _refuse(message, turn.t("voice.refuse.no_file"))
        return
    seconds = media.duration_ms / 1000 if media.duration_ms is not None else None
    try:
        service.check_caps(size=media.size, seconds=seconds, max_bytes=voice.max_bytes, max_seconds=voice.max_seconds)
    except DomainError as exc:
        await _refuse(message, turn.t(exc.key, **exc.params))
        return
    note, new = await service.receive_note(
        turn.session,
        room_id=message.room_id,
        event_id=message.event_id,
        thread_root=message.thread_root,
        sender=message.sender,
        audio_url=media.url,
        clock=turn.clock,
        file_info=media.encrypted_file,
        mimetype=media.mimetype,
        claimed_ms=media.duration_ms,
        lang=turn.lang,
    )
    if not new:
        return
    # The audio is fetched by the bot's relay once this commits (commands.voice.fetch), ahead of
    # the ⏳ in this room's lane: no network in this transaction, and nothing to lose or repeat.
    # The office's meeting rooms are names a voice message may mention: the glossary takes them.
    places = list(settings.meetings.places)
    fetch = await queue_fetch(turn.session, note, max_bytes=voice.max_bytes, job=job_options(voice, places=places))
    # The ⏳ carries a ref so that the worker can take it back when it answers.
    reaction = {"m.relates_to": {"rel_type": "m.annotation", "event_id": message.event_id, "key": "⏳"}}
    sent = await message.outbound.send(
        message.room_id, reaction, event_type="m.reaction", ref=service.wait_ref(note.id)
    )
    await outbox_actions.wait_for(turn.session, sent.outbox_id, fetch)
    if seconds is not None and seconds >= service.PROGRESS_MIN_SECONDS:
        # Long audio takes a while: say so at once; the worker edits in its progress, then the
        # transcript (it posts this itself if the bot did not).
        placeholder = await message.reply(
            turn.t("voice.progress.reply", percent=0, seconds=f"{seconds:.0f}"),
            in_thread=True,
            ref=service.reply_ref(note.id),
        )
        await outbox_actions.wait_for(turn.session, placeholder.outbox_id, fetch)
