"""`!词表`: the transcription glossary and the correction memory; admins edit them.

Everyone of the office may read the glossary (office words). The memory's pairs are spans of
transcripts from any room, an incident's or a meeting's the reader is not in, so only an admin
reads them (an admin also forgets them); others see how many there are. Adding, removing and
forgetting are an admin's, and each is audited.
"""

from __future__ import annotations

from bot import CommandObject, Message, UserFacingError
from commands.turn import Turn
from commands.voice import learnt, service, terms
from records.errors import NotAllowed

#: The glossary is long (the shipped office words): the reply shows this many, then a count.
SHOWN_TERMS = 200


async def glossary(message: Message, command: CommandObject, turn: Turn) -> None:
    settings = turn.settings
    office = [*settings.matrix.allowed_servers, *settings.matrix.allowed_users]
    if not service.may_send_voice(message.sender, allowed=settings.voice.allowed_users, office=office):
        raise NotAllowed("glossary.not_office")
    is_admin = "admin" in await turn.resolve_roles(message.sender)
    if command.sub is None:
        await message.reply(await _show(turn, with_pairs=is_admin))
        return
    if not is_admin:
        raise NotAllowed("glossary.refused")
    word = command.sub_args.strip()
    if not word:
        raise UserFacingError("glossary.missing_term", usage_of="glossary")
    configured = [str(t) for t in settings.voice.glossary]
    if command.sub == "add":
        await terms.add_term(turn.session, word, actor=message.sender, clock=turn.clock, configured=configured)
        await message.reply(turn.t("glossary.added", term=word))
    elif command.sub == "remove":
        await terms.remove_term(turn.session, word, actor=message.sender, clock=turn.clock, configured=configured)
        await message.reply(turn.t("glossary.removed", term=word))
    else:
        gone = await learnt.forget(turn.session, word, actor=message.sender, clock=turn.clock)
        await message.reply(turn.t("glossary.forgot", heard=word, rights="、".join(gone)))


async def _show(turn: Turn, *, with_pairs: bool) -> str:
    settings = turn.settings
    configured = [str(t) for t in settings.voice.glossary]
    words = await terms.glossary_terms(turn.session, configured)
    shown = "、".join(words[:SHOWN_TERMS]) + ("…" if len(words) > SHOWN_TERMS else "")
    lines = [turn.t("glossary.header", count=len(words), terms=shown)]
    added, removed = await terms.office_edits(turn.session)
    if added:
        lines.append(turn.t("glossary.office", added="、".join(added)))
    if removed:
        lines.append(turn.t("glossary.office_removed", removed="、".join(removed)))
    confirmations = settings.voice.memory_confirmations
    rows = await learnt.memory_rows(turn.session)
    if not rows:
        lines.append(turn.t("glossary.memory_empty"))
    elif not with_pairs:
        lines.append(turn.t("glossary.memory_count", count=len(rows)))
    else:
        lines.append(turn.t("glossary.memory_header", count=len(rows), confirmations=confirmations))
        for row in rows:
            if row.by_admin:
                state = turn.t("glossary.memory_admin")
            elif learnt.in_force(row, confirmations):
                state = turn.t("glossary.memory_on")
            else:
                state = turn.t("glossary.memory_waiting")
            lines.append(turn.t("glossary.memory_line", heard=row.heard, right=row.right, count=row.count, state=state))
    return "\n".join(lines)
