"""Fetching a voice message's audio: the "voice.fetch" outbox action, performed by the bot's relay.

The chat handler records the note and queues this action ahead of its ⏳ in the room's lane
(records.outbox_actions); it never waits for the homeserver itself. The relay, which holds the
Matrix client, performs it: the capped download (authenticated media API), decryption of an
encrypted attachment, and a check of the size that actually arrived. Then, in the one
transaction that marks the action done, the bytes are stored and the transcription timer
scheduled; a crash anywhere before that commit leaves the action to be done again, and after
it the action is never done twice.

While the homeserver answers nothing (or a 5xx) the performer raises and the relay tries again
like any other row. A permanent refusal (no such file, over the size cap, undecryptable) ends
the note as failed with the usual ⚠️ and bilingual reason in its thread, audited, and the ⏳
waiting behind the action is withdrawn unsent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping

import aiohttp
from sqlalchemy.ext.asyncio import AsyncSession

from bot.client import BotClient
from bot.media import DownloadTooLarge, MediaDownloadError, UndecryptableMedia, decrypt_attachment
from commands.voice import service
from commands.voice.jobs import thread_relation
from commands.voice.models import VoiceNote
from commands.voice.texts import text
from records import outbox
from records.clock import SystemClock
from records.errors import DomainError
from records.models import OutboxMessage
from records.outbox_actions import Outcome, enqueue_action, register

log = logging.getLogger(__name__)

KIND = "voice.fetch"
# Failures that say nothing about the file: the homeserver (or the way to it) is away.
TRANSIENT = (aiohttp.ClientError, OSError, asyncio.TimeoutError)


def fetch_ref(note_id: int) -> str:
    return f"voice:V{note_id}:fetch"


class Refused(Exception):
    """The audio will never be had; ``key`` and ``params`` name the text to answer with."""

    def __init__(self, key: str, detail: str, **params: str) -> None:
        self.key, self.detail, self.params = key, detail, params
        super().__init__(f"{key}: {detail}")


async def queue_fetch(
    session: AsyncSession, note: VoiceNote, *, max_bytes: int, job: dict[str, object]
) -> OutboxMessage:
    """Queue the fetch of ``note``'s audio in its room's lane (the handler's part)."""
    payload = {
        "note": note.id,
        "url": note.audio_url,
        "file": note.file_info,
        "max_bytes": max_bytes,
        "job": job,
    }
    return await enqueue_action(session, KIND, payload, room_id=note.room_id, ref=fetch_ref(note.id))


async def fetch_audio(client: BotClient, url: str, file_info: Mapping[str, object] | None, max_bytes: int) -> bytes:
    """Download (authenticated media API) and, for an encrypted attachment, decrypt.

    The declared size was checked already, but the sender wrote it: the download itself is
    streamed and abandoned once more than ``max_bytes`` arrive (AES-CTR keeps the size, so the
    cap means the same for an encrypted file). Raises Refused when the audio will never be had,
    anything else while it may yet be.
    """
    try:
        raw = await client.download(url, max_bytes=max_bytes)
    except DownloadTooLarge as exc:
        raise Refused(
            "voice.refuse.too_large",
            str(exc),
            size_mb=f"{exc.size / 1_048_576:.1f}",
            limit_mb=f"{max_bytes / 1_048_576:g}",
        ) from None
    except MediaDownloadError as exc:
        if exc.permanent:
            raise Refused("voice.refuse.download", str(exc)) from exc
        raise
    except TRANSIENT:
        raise
    except Exception as exc:  # not the network: asking again would fail the same way
        log.exception("voice download of %s failed", url)
        raise Refused("voice.refuse.download", repr(exc)) from exc
    if not file_info:
        return bytes(raw)
    try:
        return decrypt_attachment(raw, file_info)
    except UndecryptableMedia as exc:
        raise Refused("voice.refuse.decrypt", str(exc)) from exc


async def perform(client: BotClient, payload: dict[str, object]) -> Outcome:
    """The relay's part: fetch, check, and say what to record (see the module's docstring)."""
    note_id = int(str(payload["note"]))
    max_bytes = int(str(payload["max_bytes"]))
    file_info, job = payload.get("file"), payload.get("job")
    try:
        data = await fetch_audio(
            client, str(payload["url"]), file_info if isinstance(file_info, Mapping) else None, max_bytes
        )
    except Refused as exc:
        log.warning("voice V%s refused: %s", note_id, exc)
        return Outcome(_refusal(note_id, exc.key, exc.detail, exc.params), refused=exc.key)
    try:
        # The declared size may be missing or wrong: check what actually arrived.
        service.check_caps(size=len(data), seconds=None, max_bytes=max_bytes, max_seconds=float("inf"))
    except DomainError as exc:
        params = {name: str(value) for name, value in exc.params.items()}
        return Outcome(_refusal(note_id, exc.key, f"{len(data)} bytes arrived", params), refused=exc.key)
    return Outcome(_stored(note_id, data, dict(job) if isinstance(job, Mapping) else {}))


def _stored(note_id: int, data: bytes, job: dict[str, object]) -> Callable[[AsyncSession], Awaitable[None]]:
    async def record(session: AsyncSession) -> None:
        note = await session.get(VoiceNote, note_id)
        if note is None or note.status != "queued" or await service.load_audio(session, note_id) is not None:
            return  # deleted, or already had (the action ends either way)
        await service.store_audio(session, note, data, clock=SystemClock(), job=job)

    return record


def _refusal(note_id: int, key: str, detail: str, params: dict[str, str]) -> Callable[[AsyncSession], Awaitable[None]]:
    async def record(session: AsyncSession) -> None:
        note = await session.get(VoiceNote, note_id)
        if note is None or note.status != "queued":
            return
        await service.fail_note(session, note, key=key, detail=detail, clock=SystemClock())
        # As a refusal in the handler is answered: ⚠️ on the voice message, the reason in its
        # thread. Not under the note's reply ref: the placeholder that holds it is withdrawn.
        reaction = {"m.relates_to": {"rel_type": "m.annotation", "event_id": note.event_id, "key": "⚠️"}}
        await outbox.enqueue(session, reaction, room_id=note.room_id, event_type="m.reaction")
        content = outbox.text_content(text(key, note.lang, **params))
        content["m.relates_to"] = thread_relation(note)
        content["m.mentions"] = {}
        await outbox.enqueue(session, content, room_id=note.room_id, caused_by=note.sender)

    return record


# Imported with the handlers that queue it; only the bot's relay ever performs it.
register(KIND, perform)
