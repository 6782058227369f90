"""Chat handlers of the voice feature: receive voice messages, and ``!search``.

Receiving does the cheap checks first (who sent it, the declared size and duration), then
records the note and queues the fetch of its audio as an outbox action ahead of the ⏳
(commands/voice/fetch.py): the bot's relay downloads it once this transaction has committed,
and hands the bytes to the worker through the database (see commands/voice/models.py). The
handler neither downloads nor transcribes, and returns in milliseconds.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot import Command, CommandObject, Message, Router, UserFacingError, Voice
from commands.visibility import viewer_roles
from commands.voice import service
from commands.voice.fetch import queue_fetch
from commands.voice.jobs import job_options
from records import outbox_actions
from records.clock import Clock
from records.errors import DomainError
from timeparse import format_when

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


def _meeting_places(settings: Any) -> list[str]:
    """The office's meeting rooms: names a voice message may mention, for the glossary."""
    meetings = getattr(settings, "meetings", None)
    return [str(place) for place in (getattr(meetings, "places", None) or {})]


async def _refuse(message: Message, text: str) -> None:
    """Refusals are answers, not errors: ⚠️ on the voice message and the reason in its thread."""
    await message.react("⚠️")
    await message.reply(text, in_thread=True)


@router.message(Voice())
async def on_voice(message: Message, session: AsyncSession, settings: Any, clock: Clock, lang: str, t: Any) -> None:
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
    except DomainError as exc:
        await _refuse(message, t(exc.key, **exc.params))
        return
    note, new = await service.receive_note(
        session,
        room_id=message.room_id,
        event_id=message.event_id,
        thread_root=message.thread_root,
        sender=message.sender,
        audio_url=media.url,
        clock=clock,
        file_info=media.encrypted_file,
        mimetype=media.mimetype,
        claimed_ms=media.duration_ms,
        lang=lang,
    )
    if not new:
        return
    # The audio is fetched by the bot's relay once this commits (commands.voice.fetch), ahead of
    # the ⏳ in this room's lane: no network in this transaction, and nothing to lose or repeat.
    fetch = await queue_fetch(
        session, note, max_bytes=voice.max_bytes, job=job_options(voice, places=_meeting_places(settings))
    )
    # The ⏳ carries a ref so that the worker can take it back when it answers.
    reaction = {"m.relates_to": {"rel_type": "m.annotation", "event_id": message.event_id, "key": "⏳"}}
    sent = await message.outbound.send(
        message.room_id, reaction, event_type="m.reaction", ref=service.wait_ref(note.id)
    )
    await outbox_actions.wait_for(session, sent.outbox_id, fetch)
    if seconds is not None and seconds >= service.PROGRESS_MIN_SECONDS:
        # Long audio takes a while: say so at once; the worker edits in its progress, then the
        # transcript (it posts this itself if the bot did not).
        placeholder = await message.reply(
            t("voice.progress.reply", percent=0, seconds=f"{seconds:.0f}"),
            in_thread=True,
            ref=service.reply_ref(note.id),
        )
        await outbox_actions.wait_for(session, placeholder.outbox_id, fetch)


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
