"""What a confirmed step-up request does, handed to the server (which imports no feature).

An incident's close or declaration goes through emergency.confirm, as the person who asked it.

An approval's binding step (签发 …) is decided through the same `service.decide` as chat,
as the person the request names, with the credential that confirmed it recorded in the
audit entry; the service edits the card in the room through the outbox.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from sqlalchemy.ext.asyncio import AsyncSession

from bot import Catalog
from bot.grammar import TEXTS as GRAMMAR_TEXTS
from bot.texts import TEXTS as BOT_TEXTS
from commands.approvals import service as approvals
from commands.approvals.handlers.confirm import KIND as APPROVAL
from emergency import confirm as emergency_confirm
from records import outbox
from records.clock import Clock
from records.config import Settings
from records.errors import DomainError
from records.stepup import Refusal, StepUpRequest
from server.board import BoardChange
from zhiban import board_change
from zhiban.board_wiring import NAMED_APART, as_change
from zhiban.features import FEATURES
from zhiban.redis_conn import resolve_url
from zhiban.texts import TEXTS, tr
from zhiban.wakeup import BOARD, OUTBOX, WakeBus

log = logging.getLogger(__name__)


async def complete(session: AsyncSession, request: StepUpRequest, credential: str, clock: Clock) -> Refusal | None:
    """server.stepup.Completion: None when decided, else why not (in both languages)."""
    if request.kind == emergency_confirm.CLOSE:
        return await emergency_confirm.complete_close(session, request, credential, clock)
    if request.kind == emergency_confirm.DECLARE:
        return await emergency_confirm.complete_declare(session, request, credential, clock)
    if request.kind != APPROVAL:
        # A request written by another version (a rolling upgrade): said as the page says it.
        log.warning("step-up request %s of unknown kind %r left undecided", request.id, request.kind)
        return Refusal.of(lambda lang: tr("stepup.unknown_kind", lang))
    try:
        # A savepoint: a refusal leaves nothing of the decision, while the request is still
        # marked used in the same transaction.
        async with session.begin_nested():
            await approvals.decide(
                session,
                request.record_id,
                request.user_id,
                True,
                request.opinion,
                clock,
                confirmed_with=credential,
                at_position=request.step_position,
            )
    except DomainError as exc:
        key, params = exc.key, exc.params
        return Refusal.of(lambda lang: refusal_text(key, lang, params))
    return None


@dataclass
class BoardAnnounce:
    """server.stepup.Announce: a confirmed decision wakes the boards and the bot's relay as a
    board action does (zhiban.board_wiring.WiredBoard.act), naming what it changed."""

    wake: WakeBus | None

    @classmethod
    def from_settings(cls, settings: Settings) -> BoardAnnounce:
        url = resolve_url(settings.redis.url)
        return cls(WakeBus(url, settings.redis.queue) if url else None)

    def noted(self, session: AsyncSession) -> str | None:
        return board_change.named(session)

    async def publish(self, noted: str | None) -> BoardChange:
        outbox.wake_relay()
        # Committed already: a wake-up that cannot be sent (WakeBus.publish logs it) only
        # leaves the others to their next refresh.
        if self.wake is not None:  # the bot relays the edited cards; other copies' boards read again
            await self.wake.publish(OUTBOX, NAMED_APART)
            if noted is not None:
                await self.wake.publish(BOARD, noted)
        return BoardChange(sections=frozenset()) if noted is None else as_change(noted)


def step_extra(settings: Settings) -> dict[str, object]:
    """What `zhiban server` hands create_app so that /confirm completes and announces decisions."""
    return {"step_completion": complete, "step_announce": BoardAnnounce.from_settings(settings)}


@cache
def _refusals() -> Catalog:
    # A refusal may come from any layer the decision passes through: the approvals feature,
    # the ground floor (records.directory's people.* keys, whose texts are the framework's),
    # another feature reached through a hook. The chat answers them from all of these texts.
    return Catalog(*(feature.texts for feature in FEATURES), BOT_TEXTS, GRAMMAR_TEXTS, TEXTS)


def refusal_text(key: str, lang: str, params: Mapping[str, object]) -> str:
    """A refusal's text in `lang`, as the page shows it; never the key itself: a key with no
    text (or one its parameters do not fill) reads as a generic refusal and is logged."""
    catalog = _refusals()
    if key in catalog:
        try:
            return catalog.t(key, lang, **params)
        except (KeyError, IndexError, ValueError):
            log.warning("step-up refusal %r has parameters its text does not take: %s", key, sorted(params))
    else:
        log.warning("step-up refusal %r has no text: the page shows the generic refusal", key)
    return tr("stepup.refused", lang)
