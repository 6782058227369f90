"""Telling people about an approval: DMs in each person's own language and zone, plus a push.

Services and timers have no translator, so texts are rendered here from the feature's catalog,
and any datetime parameter is shown in the recipient's zone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from commands.approvals.policy import ApprovalPolicy
from commands.approvals.texts import render
from notifications import reach
from notifications.names import names_for
from records import outbox
from records.clock import Clock
from timeparse import format_when

log = logging.getLogger(__name__)

#: A text's parameter: shown as is, a datetime shown in the reader's zone, or a function of the
#: reader's language (a step label, a mode name).
Param = str | int | datetime | Callable[[str], str]


async def prefs(session: AsyncSession, user: str, policy: ApprovalPolicy) -> tuple[str, str]:
    who = await reach.reader(session, user, lang=policy.default_lang, tz=policy.default_tz)
    return who.lang, who.tz


def localise(params: Mapping[str, Param], *, lang: str, tz: str, now: datetime) -> dict[str, str | int]:
    """Datetimes in the reader's zone; callables (texts that depend on the language) given `lang`."""
    out: dict[str, str | int] = {}
    for name, value in params.items():
        if isinstance(value, datetime):
            out[name] = format_when(value, tz=tz, lang=lang, now=now)
        elif callable(value):
            out[name] = value(lang)
        else:
            out[name] = value
    return out


async def tell(
    session: AsyncSession,
    recipient: str,
    key: str,
    clock: Clock,
    policy: ApprovalPolicy,
    /,
    *,
    ref: str | None = None,
    push_kind: str | None = "approval",
    topic: str | None = None,
    **params: Param,
) -> None:
    """DM one person a text of this feature, and push it to their devices."""
    await _tell(session, recipient, key, clock, policy, params, ref=ref, push_kind=push_kind, topic=topic)


async def tell_all(
    session: AsyncSession,
    recipients: Iterable[str],
    key: str,
    clock: Clock,
    policy: ApprovalPolicy,
    /,
    *,
    ref_of: Callable[[str], str] | None = None,
    topic: str | None = None,
    **params: Param,
) -> None:
    for user in dict.fromkeys(recipients):
        ref = ref_of(user) if ref_of is not None else None
        await _tell(session, user, key, clock, policy, params, ref=ref, push_kind="approval", topic=topic)


async def _tell(
    session: AsyncSession,
    recipient: str,
    key: str,
    clock: Clock,
    policy: ApprovalPolicy,
    params: Mapping[str, Param],
    *,
    ref: str | None,
    push_kind: str | None,
    topic: str | None,
) -> None:
    lang, tz = await prefs(session, recipient, policy)
    text = render(key, lang, **localise(params, lang=lang, tz=tz, now=clock.now()))
    names = await names_for(session, text)
    body = names.plain(text)
    await reach.dm(session, recipient, body, html=names.html(text), ref=ref)
    if push_kind is not None:
        await reach.push(
            session,
            [recipient],
            kind=push_kind,
            title=render("push.title", lang),
            body=body,
            clock=clock,
            topic=topic,
            ref=topic,
        )


async def close_notice(
    session: AsyncSession,
    recipient: str,
    ref: str,
    key: str,
    clock: Clock,
    policy: ApprovalPolicy,
    /,
    **params: Param,
) -> bool:
    """Edit every DM sent under `ref` (the request and its reminders) so it says there is
    nothing left to decide.

    A leader reading an old "please decide" DM would otherwise act on a step that is already
    closed. No push: the edit only corrects what is on screen. False when no DM was sent.
    """
    lang, tz = await prefs(session, recipient, policy)
    text = render(key, lang, **localise(params, lang=lang, tz=tz, now=clock.now()))
    names = await names_for(session, text)
    content = outbox.text_content(names.plain(text), names.html(text))
    return bool(await outbox.enqueue_edits(session, ref, content))
