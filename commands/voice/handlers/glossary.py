"""`!词表`: the transcription glossary and the correction memory; admins edit them.

Everyone of the office may read the glossary (office words). The memory's pairs are spans of
transcripts from any room, an incident's or a meeting's the reader is not in, so only an admin
reads them (an admin also forgets them); others see how many there are. An admin who asks in a
shared room gets the count there and the pairs in a direct message, so that one room's words are
not posted into another; the list is capped (most confirmed first). Adding, removing and
forgetting are an admin's, and each is audited.
"""

from __future__ import annotations

from bot import CommandObject, Message, UserFacingError
from commands.turn import Turn
from commands.voice import learnt, service, terms
from commands.voice.models import VoiceMemory
from notifications import reach
from records.errors import NotAllowed

#: The glossary is long (the shipped office words): the reply shows this many, then a count.
SHOWN_TERMS = 200
#: Memory pairs listed, most confirmed first; the rest are counted (an office learns hundreds).
MEMORY_LINES = 50


async def glossary(message: Message, command: CommandObject, turn: Turn) -> None:
    settings = turn.settings
    office = [*settings.matrix.allowed_servers, *settings.matrix.allowed_users]
    if not service.may_send_voice(message.sender, allowed=settings.voice.allowed_users, office=office):
        raise NotAllowed("glossary.not_office")
    is_admin = "admin" in await turn.resolve_roles(message.sender)
    if command.sub is None:
        rows = await learnt.memory_rows(turn.session)
        in_private = message.is_dm or not rows
        await message.reply(await _show(turn, rows, is_admin=is_admin, in_private=in_private))
        if is_admin and not in_private:
            await reach.dm(turn.session, message.sender, "\n".join(_memory_lines(turn, rows)))
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


async def _show(turn: Turn, rows: list[VoiceMemory], *, is_admin: bool, in_private: bool) -> str:
    """The glossary and the memory: its pairs for an admin in private, else how many there are
    (and, for an admin asking in a shared room, that the pairs went to their DM)."""
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
    if not rows:
        lines.append(turn.t("glossary.memory_empty"))
    elif is_admin and in_private:
        lines.extend(_memory_lines(turn, rows))
    else:
        lines.append(turn.t("glossary.memory_sent_dm" if is_admin else "glossary.memory_count", count=len(rows)))
    return "\n".join(lines)


def _memory_lines(turn: Turn, rows: list[VoiceMemory]) -> list[str]:
    """The memory's pairs, those in force and the most confirmed first, at most MEMORY_LINES."""
    confirmations = turn.settings.voice.memory_confirmations
    ordered = sorted(rows, key=lambda r: (not learnt.in_force(r, confirmations), -r.count, r.heard, r.right))
    lines = [turn.t("glossary.memory_header", count=len(rows), confirmations=confirmations)]
    for row in ordered[:MEMORY_LINES]:
        if row.by_admin:
            state = turn.t("glossary.memory_admin")
        elif learnt.in_force(row, confirmations):
            state = turn.t("glossary.memory_on")
        else:
            state = turn.t("glossary.memory_waiting")
        lines.append(turn.t("glossary.memory_line", heard=row.heard, right=row.right, count=row.count, state=state))
    if len(rows) > MEMORY_LINES:
        lines.append(turn.t("glossary.memory_more", count=len(rows) - MEMORY_LINES))
    return lines
