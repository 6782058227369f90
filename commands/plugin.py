"""A feature as a typed plug-in: what one feature contributes to the bot and the worker.

Each feature's `feature.py` exports one `FEATURE`; zhiban.features lists them, and zhiban.app
puts them together (routers in that order, texts into one catalog, timers into one registry).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from bot import Router
from bot.i18n import Texts
from commands.board_section import BoardSection
from commands.record_search import Searcher
from records.clock import Clock
from records.config import Settings
from records.timers import TimerRegistry


class TranscribedNote(Protocol):
    """What a voice filer reads of a transcribed voice message (the voice feature's note)."""

    @property
    def room_id(self) -> str: ...
    @property
    def event_id(self) -> str: ...
    @property
    def thread_root(self) -> str | None: ...  # None: said in the room's main timeline
    @property
    def sender(self) -> str: ...
    @property
    def text(self) -> str | None: ...


class HeardNote(Protocol):
    """What a feature waiting on a spoken answer reads of a voice message (the voice feature's note)."""

    @property
    def id(self) -> int: ...  # the note's number (V12), to read it again once corrected
    @property
    def status(self) -> str: ...  # "queued" until transcribed, then "done" or "failed"
    @property
    def text(self) -> str | None: ...


class LatestTranscript(Protocol):
    """The voice feature's look-up of ``sender``'s latest voice message in ``room_id`` since
    ``since`` (with ``note_id``: that one, if it is theirs, there and recent enough), handed by
    the wiring to a feature that takes spoken answers (the emergency report wizard)."""

    def __call__(
        self, session: AsyncSession, *, room_id: str, sender: str, since: datetime, note_id: int | None = None
    ) -> Awaitable[HeardNote | None]: ...


class SupervisedTask(Protocol):
    """A supervised task (督办) another feature had made: what it keeps, and the task's card."""

    @property
    def id(self) -> int: ...
    @property
    def code(self) -> str: ...  # "T12"
    @property
    def card_ref(self) -> str: ...  # the card's outbox ref: a ✅/❌ or a reply on it works as on any task's

    def card(self, lang: str, tz: str, now: datetime) -> str: ...


class MakeTask(Protocol):
    """The tasks feature's way to assign a supervised task from ``source`` (a meeting's "M3"),
    handed by the wiring to a feature whose records become tasks (the minutes' action items).
    It stores, audits, schedules and notifies as `!task` does; the caller shows the card."""

    def __call__(
        self,
        session: AsyncSession,
        *,
        assigner: str,
        lead: str,
        title: str,
        due_at: datetime,
        source: str,
        room_id: str | None,
        clock: Clock,
    ) -> Awaitable[SupervisedTask]: ...


@dataclass(frozen=True)
class VoiceFiler:
    """Where a feature files a transcript said in its context (a task card's thread, a meeting's).

    ``file`` returns a label such as "minutes:M3" when it filed the note, None when the note is
    not its business; it may raise records.errors.DomainError to decline. Filers are tried by
    ``rank`` (lowest first), in the order of the features list within a rank; the first label wins.

    ``amend``, when the feature offers it, makes what it filed follow a corrected transcript: it
    receives the note (its ``text`` already corrected) and the text it filed before, and returns
    whether it found and changed an entry of its own.
    """

    file: Callable[[AsyncSession, TranscribedNote, Clock], Awaitable[str | None]]
    rank: int = 0
    amend: Callable[[AsyncSession, TranscribedNote, str, Clock], Awaitable[bool]] | None = None
    # Whether ``user`` may file a whole recording into what the thread ``thread_root`` belongs
    # to (a meeting's minutes): None when the thread is not this feature's, else the record's
    # code and the answer, asked before any work so that a refusal comes at once.
    may_file: Callable[[AsyncSession, str | None, str], Awaitable[tuple[str, bool] | None]] | None = None


def no_timers(registry: TimerRegistry, settings: Settings) -> None:
    """For a feature that has no timers."""


@dataclass(frozen=True)
class Feature:
    name: str
    # Called once per dispatcher: each dispatcher gets routers of its own, so a second
    # dispatcher in one process (tests, a standby) never shares or steals them.
    router: Callable[[], Router]
    texts: Texts
    # Modules whose tables the migrations must know (alembic's env imports them).
    model_modules: tuple[str, ...] = ()
    # Adds the feature's timer handlers to the worker's (and the tests') registry; the handlers
    # take what they need of the settings from here, never from a file of their own.
    register_timers: Callable[[TimerRegistry, Settings], None] = no_timers
    # Where it files a voice transcript said in its context (the voice feature tries them).
    voice_filers: tuple[VoiceFiler, ...] = ()
    # How `!search` finds its records (commands.record_search.RecordSearch), each for those its
    # own rule admits; the wiring hands them to the voice feature, which runs the search.
    searchers: tuple[Searcher, ...] = ()
    # Its parts of the board (commands.board_section): each scoped by the feature's own
    # need-to-know rule; the wiring hands them all to the board feature.
    board_sections: tuple[BoardSection, ...] = field(default=())
