"""The office's transcription glossary: the shipped terms, the config's, and ``!词表`` edits.

An edit is a row of ``voice_terms``: a term added, or one removed (a shipped or configured term
the office does not want, kept as a row so that removing it survives the next release). The
worker reads them for each job (``office_edits``); ``!词表`` shows the result.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from commands.voice.models import VoiceTerm
from records import audit
from records.clock import Clock
from records.errors import DomainError, NotAllowed
from voice.glossary import DEFAULT_TERMS

#: A term is 2-16 letters or Chinese characters: one character has too many homophones to
#: correct safely, and the glossary holds words and names, not phrases.
_TERM = re.compile(r"[\w\u3400-\u9fff·]{2,16}")


def valid_term(term: str) -> bool:
    return bool(_TERM.fullmatch(term)) and not term.isdigit()


async def office_edits(session: AsyncSession) -> tuple[list[str], list[str]]:
    """(terms the office added, terms it removed)."""
    rows = list(await session.scalars(select(VoiceTerm).order_by(VoiceTerm.changed_at, VoiceTerm.term)))
    return [r.term for r in rows if not r.removed], [r.term for r in rows if r.removed]


async def glossary_terms(session: AsyncSession, configured: Iterable[str] = ()) -> list[str]:
    """The glossary in force: shipped, configured and added terms, less the removed ones."""
    added, removed = await office_edits(session)
    gone = set(removed)
    merged = dict.fromkeys(t for t in (*DEFAULT_TERMS, *configured, *added) if t.strip())
    return [t for t in merged if t not in gone]


async def add_term(
    session: AsyncSession, term: str, *, actor: str, clock: Clock, configured: Iterable[str] = ()
) -> None:
    if not valid_term(term):
        raise DomainError("glossary.bad_term", term=term)
    if term in await glossary_terms(session, configured):
        raise NotAllowed("glossary.already", term=term)
    await _set(session, term, removed=False, actor=actor, clock=clock)
    await audit.record(session, actor=actor, action="voice.glossary.add", subject=term, clock=clock)


async def remove_term(
    session: AsyncSession, term: str, *, actor: str, clock: Clock, configured: Iterable[str] = ()
) -> None:
    if term not in await glossary_terms(session, configured):
        raise NotAllowed("glossary.not_found", term=term)
    await _set(session, term, removed=True, actor=actor, clock=clock)
    await audit.record(session, actor=actor, action="voice.glossary.remove", subject=term, clock=clock)


async def _set(session: AsyncSession, term: str, *, removed: bool, actor: str, clock: Clock) -> None:
    row = await session.get(VoiceTerm, term)
    if row is None:
        row = VoiceTerm(term=term)
        session.add(row)
    row.removed, row.changed_by, row.changed_at = removed, actor, clock.now()
    await session.flush()
