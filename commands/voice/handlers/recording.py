"""Whole recordings: an audio or video file sent to a meeting's thread, or `!转写` in reply to one.

Only the cheap checks happen here (who asks, the declared size and length); the request is
recorded and the file's fetch queued as an outbox action (commands/voice/recording_fetch.py),
so the handler neither downloads nor transcribes. In a meeting's thread only those who may add
to its minutes may ask; elsewhere only the file's sender (checked by the relay for `!转写`,
which has to read the file's event first).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from bot import UNHANDLED, CommandObject, Message, UserFacingError
from bot.types import Event
from commands.plugin import VoiceFiler
from commands.turn import Turn
from commands.voice import recordings
from commands.voice.jobs import job_options
from commands.voice.recording_fetch import Refused, check_caps, queue_fetch
from records import outbox_actions
from records.errors import NotAllowed


def is_recording_file(event: Event, data: dict[str, object]) -> bool:
    """A filter: an audio or video file that is no recorded voice note."""
    if not isinstance(event, Message) or event.media is None:
        return False
    return recordings.is_recording_media(event.msgtype, event.media.mimetype, voice_note=event.is_voice)


async def _start(message: Message, turn: Turn, *, event_id: str, senders_only: bool, media_known: bool) -> None:
    voice = turn.settings.voice
    media = message.media if media_known else None
    recording, new = await recordings.receive(
        turn.session,
        room_id=message.room_id,
        event_id=event_id,
        thread_root=message.thread_root,
        requester=message.sender,
        lang=turn.lang,
        clock=turn.clock,
        audio_url=media.url if media is not None else None,
        file_info=media.encrypted_file if media is not None else None,
    )
    if not new:
        await message.reply(turn.t("recording.already", code=recording.code), in_thread=True)
        return
    max_bytes, max_seconds = int(voice.recording_max_bytes), float(voice.recording_max_seconds)
    job = job_options(voice, places=list(turn.settings.meetings.places), max_bytes=max_bytes, max_seconds=max_seconds)
    fetch = await queue_fetch(
        turn.session, recording, senders_only=senders_only, job=job, max_bytes=max_bytes, max_seconds=max_seconds
    )
    placeholder = await message.reply(
        turn.t("recording.queued", code=recording.code), in_thread=True, ref=recordings.progress_ref(recording.id)
    )
    await outbox_actions.wait_for(turn.session, placeholder.outbox_id, fetch)


async def _refuse_over_caps(message: Message, turn: Turn) -> bool:
    media = message.media
    if media is None:
        return False
    voice = turn.settings.voice
    seconds = media.duration_ms / 1000 if media.duration_ms is not None else None
    try:
        check_caps(media.size, seconds, int(voice.recording_max_bytes), float(voice.recording_max_seconds))
    except Refused as exc:
        await message.react("⚠️")
        await message.reply(turn.t(exc.key, **exc.params), in_thread=True)
        return True
    return False


OnFile = Callable[[Message, Turn], Awaitable[object]]
OnCommand = Callable[[Message, CommandObject, Turn], Awaitable[None]]


def handlers(filers: Sequence[VoiceFiler]) -> tuple[OnFile, OnCommand]:
    """(the handler of a file in a thread, the `!转写` handler)."""

    async def on_file(message: Message, turn: Turn) -> object:
        if not turn.settings.voice.enabled or message.thread_root is None:
            return UNHANDLED
        found = await recordings.may_file(turn.session, filers, message.thread_root, message.sender)
        if found is None:
            return UNHANDLED  # a file in some other thread: `!转写` asks for it
        meeting, allowed = found
        if not allowed:
            await message.reply(turn.t("recording.refuse.minutes", meeting=meeting), in_thread=True)
            return None
        if await _refuse_over_caps(message, turn):
            return None
        await _start(message, turn, event_id=message.event_id, senders_only=False, media_known=True)
        return None

    async def on_command(message: Message, command: CommandObject, turn: Turn) -> None:
        if not turn.settings.voice.enabled:
            raise NotAllowed("voice.refuse.disabled")
        if not message.reply_to:
            raise UserFacingError("recording.refuse.no_file", usage_of="transcribe")
        found = await recordings.may_file(turn.session, filers, message.thread_root, message.sender)
        if found is not None and not found[1]:
            raise NotAllowed("recording.refuse.minutes", meeting=found[0])
        await _start(message, turn, event_id=message.reply_to, senders_only=found is None, media_known=False)

    return on_file, on_command
