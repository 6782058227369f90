"""Chat handlers of the voice feature: receive voice messages, and ``!search``.

Receiving does the cheap checks first (who sent it, the declared size and duration), then
fetches the audio through the authenticated media API, decrypts it if the room is encrypted,
and hands the bytes to the worker through the database (see commands/voice/models.py). The
handler never transcribes: it runs as its own task, off the sync loop, and returns in
milliseconds.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot import Command, CommandObject, Media, Message, Router, UserFacingError, Voice
from bot.media import DownloadTooLarge
from commands.timeparse import format_when
from commands.visibility import viewer_roles
from commands.voice import service
from records.clock import Clock
from records.errors import DomainError
from voice.jobs import job_options

log = logging.getLogger(__name__)

router = Router("voice")

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


class FetchError(Exception):
    """The audio could not be fetched or decrypted; ``key`` is the text to answer with."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(key)


async def fetch_audio(client: Any, media: Media, max_bytes: int) -> bytes:
    """Download (authenticated media API) and, for an encrypted attachment, decrypt.

    The declared size was checked already, but the sender wrote it: the download itself is
    streamed and abandoned once more than ``max_bytes`` arrive (AES-CTR keeps the size, so the
    cap means the same for an encrypted file).
    """
    if not media.url:
        raise FetchError("voice.refuse.no_file")
    try:
        raw = await client.download(media.url, max_bytes=max_bytes)
    except DownloadTooLarge as exc:
        log.warning("voice download of %s stopped: %s", media.url, exc)
        raise DomainError(
            "voice.refuse.too_large", size_mb=f"{exc.size / 1_048_576:.1f}", limit_mb=f"{max_bytes / 1_048_576:g}"
        ) from None
    except Exception as exc:
        log.warning("voice download of %s failed: %s", media.url, exc)
        raise FetchError("voice.refuse.download") from exc
    info = media.encrypted_file
    if not info:
        return bytes(raw)
    try:
        from nio.crypto.attachments import decrypt_attachment

        return bytes(decrypt_attachment(raw, info["key"]["k"], info["hashes"]["sha256"], info["iv"]))
    except Exception as exc:  # a wrong hash, a malformed key: nio raises several kinds
        log.warning("voice decryption of %s failed: %s", media.url, exc)
        raise FetchError("voice.refuse.decrypt") from exc


def _meeting_places(settings: Any) -> list[str]:
    """The office's meeting rooms: names a voice message may mention, for the glossary."""
    meetings = getattr(settings, "meetings", None)
    return [str(place) for place in (getattr(meetings, "places", None) or {})]


async def _refuse(message: Message, text: str) -> None:
    """Refusals are answers, not errors: ⚠️ on the voice message and the reason in its thread."""
    await message.react("⚠️")
    await message.reply(text, in_thread=True)


@router.message(Voice())
async def on_voice(
    message: Message, session: AsyncSession, settings: Any, clock: Clock, lang: str, t: Any, client: Any
) -> None:
    voice = settings.voice
    if not voice.enabled:
        return  # the office turned it off: voice messages are just messages
    office = [*settings.matrix.allowed_servers, *settings.matrix.allowed_users]
    allowed = list(getattr(voice, "allowed_users", None) or [])
    if not service.may_send_voice(message.sender, allowed=allowed, office=office):
        await _refuse(message, t("voice.refuse.unauthorized"))
        return
    media = message.media
    if media is None or not media.url:
        await _refuse(message, t("voice.refuse.no_file"))
        return
    seconds = media.duration_ms / 1000 if media.duration_ms is not None else None
    try:
        service.check_caps(size=media.size, seconds=seconds, max_bytes=voice.max_bytes, max_seconds=voice.max_seconds)
        data = await fetch_audio(client, media, voice.max_bytes)
        # The declared size may be missing or wrong: check what actually arrived.
        service.check_caps(size=len(data), seconds=None, max_bytes=voice.max_bytes, max_seconds=voice.max_seconds)
    except DomainError as exc:
        await _refuse(message, t(exc.key, **exc.params))
        return
    except FetchError as exc:
        await _refuse(message, t(exc.key))
        return
    note = await service.queue_note(
        session,
        room_id=message.room_id,
        event_id=message.event_id,
        thread_root=message.thread_root,
        sender=message.sender,
        audio_url=media.url,
        audio=data,
        clock=clock,
        file_info=media.encrypted_file,
        mimetype=media.mimetype,
        claimed_ms=media.duration_ms,
        lang=lang,
        job=job_options(voice, places=_meeting_places(settings)),
    )
    # The ⏳ carries a ref so that the worker can take it back when it answers.
    reaction = {"m.relates_to": {"rel_type": "m.annotation", "event_id": message.event_id, "key": "⏳"}}
    await message.outbound.send(message.room_id, reaction, event_type="m.reaction", ref=service.wait_ref(note.id))
    if seconds is not None and seconds >= service.PROGRESS_MIN_SECONDS:
        # Long audio takes a while: say so at once; the worker edits in its progress, then the
        # transcript (it posts this itself if the bot did not).
        await message.reply(
            t("voice.progress.reply", percent=0, seconds=f"{seconds:.0f}"),
            in_thread=True,
            ref=service.reply_ref(note.id),
        )


@router.message(SEARCH)
async def search(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    clock: Clock,
    t: Any,
    lang: str,
    tz: str,
    resolve_roles: Any = None,
) -> None:
    query = command.args.strip()
    if not query:
        raise UserFacingError("search.empty_query", usage_of="search")
    roles = await viewer_roles(resolve_roles, message.sender)
    terms, hits = await service.search(session, user=message.sender, room_id=message.room_id, query=query, roles=roles)
    shown = query[:60]
    if not hits:
        await message.reply(t("search.none", query=shown))
        return
    lines = [t("search.header", query=shown, count=len(hits))]
    now = clock.now()
    for hit in hits:
        when = format_when(hit.at, tz=tz, lang=lang, now=now)
        snippet = service.snippet(hit.text, terms)
        lines.append(t("search.hit", code=hit.code, when=when, author=hit.author, snippet=snippet))
    await message.reply("\n".join(lines))
