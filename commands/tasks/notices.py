"""Telling people things from a service or a timer: in their language, zone, DM or room, plus a push.

Timers run without a chat event, so there is no translator at hand: texts are rendered here
from the feature's catalog, in each recipient's own language, and any datetime parameter is
shown in the recipient's own time zone.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from commands.tasks.models import Task
from commands.tasks.policy import load_policy
from commands.tasks.refs import card_ref
from commands.tasks.render import render_card
from commands.tasks.texts import render
from notifications import reach
from notifications.names import names_for
from records import outbox, people
from records.clock import Clock
from timeparse import format_when

log = logging.getLogger(__name__)


async def prefs(session: AsyncSession, user: str) -> tuple[str, str]:
    """The user's (language, zone), with the office defaults where they kept them."""
    lang, tz = await people.preferences(session, user)
    if lang and tz:
        return lang, tz
    policy = await load_policy(session)
    return lang or policy.default_lang, tz or policy.default_tz


# A text's parameters are of every kind (names, numbers, datetimes shown in the reader's zone).
def _localise(params: Mapping[str, object], *, lang: str, tz: str, now: datetime) -> dict[str, object]:
    return {
        name: format_when(value, tz=tz, lang=lang, now=now) if isinstance(value, datetime) else value
        for name, value in params.items()
    }


async def tell(
    session: AsyncSession,
    recipient: str,
    key: str,
    clock: Clock,
    /,
    *,
    ref: str | None = None,
    push_kind: str | None = "reminder",
    urgent: bool = False,
    caused_by: str | None = None,
    **params: object,
) -> None:
    """DM one person a text of this feature (and push it to their devices).

    `urgent` (alarms, nags) goes out before routine messages after an outage; `caused_by`
    is told if it can never be sent (see records.outbox)."""
    await _tell(
        session, recipient, key, clock, params, ref=ref, push_kind=push_kind, urgent=urgent, caused_by=caused_by
    )


async def tell_all(
    session: AsyncSession,
    recipients: Iterable[str],
    key: str,
    clock: Clock,
    /,
    *,
    ref: str | None = None,
    **params: object,
) -> None:
    for recipient in dict.fromkeys(recipients):
        await _tell(session, recipient, key, clock, params, ref=ref)


async def _tell(
    session: AsyncSession,
    recipient: str,
    key: str,
    clock: Clock,
    params: Mapping[str, object],
    *,
    ref: str | None,
    push_kind: str | None = "reminder",
    urgent: bool = False,
    caused_by: str | None = None,
) -> None:
    lang, tz = await prefs(session, recipient)
    body = render(key, lang, **_localise(params, lang=lang, tz=tz, now=clock.now()))
    await reach.dm(session, recipient, body, ref=ref, urgent=urgent, caused_by=caused_by)
    if push_kind is not None:
        await push(session, [recipient], push_kind, render("push.title", lang), body, clock, ref=ref)


async def post(
    session: AsyncSession,
    room_id: str,
    key: str,
    clock: Clock,
    *,
    lang: str,
    tz: str,
    mention: Iterable[str] = (),
    ref: str | None = None,
    urgent: bool = False,
    caused_by: str | None = None,
    **params: object,
) -> None:
    """Post a text of this feature in a room, mentioning people so that their clients notify them
    (`urgent`, `caused_by`: as for `tell`)."""
    body = render(key, lang, **_localise(params, lang=lang, tz=tz, now=clock.now()))
    await reach.post(session, room_id, body, mention=mention, ref=ref, urgent=urgent, caused_by=caused_by)


async def push(
    session: AsyncSession,
    users: list[str],
    kind: str,
    title: str,
    body: str,
    clock: Clock,
    *,
    ref: str | None = None,
) -> None:
    """Web Push to their devices; the chat message is already in the outbox, so never a DM."""
    await reach.push(session, users, kind=kind, title=title, body=body, clock=clock, topic=ref, ref=ref)


async def refresh_card(session: AsyncSession, task: Task, clock: Clock) -> None:
    """Edit the task's room card in place (m.replace of the row sent as `card_ref`).

    The card follows every change of state. It is written in the assigner's language and
    zone (the card is normally posted by them). Nothing happens when no card was posted (a
    task another feature created without showing one); a row under the card's ref that went
    to a person (databases from before DMs had their own ref) is not a card and is left alone.
    """
    card = await outbox.latest_with_ref(session, card_ref(task.id))
    if card is None or card.to_user is not None:
        return
    lang, tz = await prefs(session, task.assigner)
    policy = await load_policy(session)
    # Status and percentage only: everyone in the room saw the card, but what the owners write
    # about the work is for those the need-to-know rule admits (`!task T7` shows it to them).
    body = render_card(task, lang, tz, clock.now(), end_of_day=policy.end_of_day_time)
    names = await names_for(session, body)
    await outbox.enqueue_edit(session, card_ref(task.id), outbox.text_content(names.plain(body), names.html(body)))
