"""`!search`: the transcripts (and other features' records) the sender may see."""

from __future__ import annotations

from bot import CommandObject, Message, UserFacingError
from commands.turn import Turn
from commands.voice import service
from timeparse import format_when


async def search(message: Message, command: CommandObject, turn: Turn) -> None:
    query = command.args.strip()
    if not query:
        raise UserFacingError("search.empty_query", usage_of="search")
    roles = await turn.resolve_roles(message.sender)
    terms, hits = await service.search(
        turn.session, user=message.sender, room_id=message.room_id, query=query, roles=roles
    )
    shown = query[:60]
    if not hits:
        await message.reply(turn.t("search.none", query=shown))
        return
    lines = [turn.t("search.header", query=shown, count=len(hits))]
    now = turn.clock.now()
    for hit in hits:
        when = format_when(hit.at, tz=turn.tz, lang=turn.lang, now=now)
        snippet = service.snippet(hit.text, terms)
        lines.append(turn.t("search.hit", code=hit.code, when=when, author=hit.author, snippet=snippet))
    await message.reply("\n".join(lines))
