"""`notify()`: the one door through which every flow reaches people's phones.

It only writes rows (a notice, a delivery per device, perhaps a DM in the outbox, and a
timer), inside the caller's transaction: if the flow's change rolls back, nothing is sent,
and if it commits, the worker sends. Nothing here waits for the network.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.models import Delivery, Notice, PushSubscription
from notifications.notice import NoticeSpec, localized_dict, pick
from notifications.quiet import is_quiet
from notifications.texts import text
from records import outbox, timers
from records.clock import Clock
from records.models import Person

if TYPE_CHECKING:
    from records.config import Settings

SEND_KIND = "push.send"


@dataclass
class NotifyResult:
    notice_id: int
    queued: int = 0
    skipped_quiet: int = 0
    dm_to: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Defaults:
    lang: str = "zh"
    tz: str = "Asia/Shanghai"
    public_url: str = ""

    @classmethod
    def of(cls, settings: Settings | None) -> Defaults:
        if settings is None:
            return cls()
        return cls(settings.default_lang, settings.default_tz, settings.server.public_url)


def absolute_url(url: str | None, public_url: str) -> str | None:
    if not url:
        return None
    if url.startswith("/") and public_url:
        return public_url.rstrip("/") + url
    return url


def dm_content(notice: Notice, lang: str, public_url: str) -> dict[str, object]:
    """The chat fallback: the notice as a DM. A sensitive one says only that there is an item."""
    if notice.sensitive:
        title, body = text("push.sensitive.title", lang), text("push.sensitive.body", lang)
    else:
        title, body = pick(notice.title, lang), pick(notice.body, lang)
    message = text("push.dm", lang, title=title, body=body).rstrip()
    link = absolute_url(notice.url, public_url)
    if link and not notice.sensitive:
        message += text("push.dm.link", lang, url=link)
    return outbox.text_content(message, msgtype="m.notice")


async def send_dm(
    session: AsyncSession, notice: Notice, user_id: str, lang: str, public_url: str, now: datetime
) -> None:
    await outbox.enqueue(session, dm_content(notice, lang, public_url), to_user=user_id, ref=f"notice:{notice.id}")
    session.add(
        Delivery(
            notice_id=notice.id,
            user_id=user_id,
            channel="dm",
            lang=lang,
            status="dm",
            attempts=0,
            created_at=now,
            updated_at=now,
        )
    )


async def notify(
    session: AsyncSession,
    people: Iterable[str],
    notice: NoticeSpec,
    *,
    clock: Clock,
    settings: Settings | None = None,
) -> NotifyResult:
    """Queue `notice` for every device of every person; DM those who cannot get a push.

    Emergency notices ignore quiet hours; others are held back (status skipped_quiet) while a
    person's quiet hours last. Returns counts for the caller's reply or receipts.
    """
    defaults = Defaults.of(settings)
    now = clock.now()
    policy = notice.policy
    ttl = notice.ttl or policy.ttl
    row = Notice(
        kind=str(notice.kind),
        title=localized_dict(notice.title),
        body=localized_dict(notice.body),
        sensitive=notice.sensitive,
        topic=notice.topic,
        url=notice.url,
        ttl=ttl,
        urgency=policy.urgency.value,
        ref=notice.ref,
        dm=notice.dm,
        created_at=now,
        expires_at=now + timedelta(seconds=ttl),
    )
    session.add(row)
    await session.flush()
    result = NotifyResult(notice_id=row.id)

    users = list(dict.fromkeys(people))
    if not users:
        return result
    persons = {p.user_id: p for p in await session.scalars(select(Person).where(Person.user_id.in_(users)))}
    subs: dict[str, list[PushSubscription]] = {}
    for sub in await session.scalars(
        select(PushSubscription).where(PushSubscription.user_id.in_(users)).order_by(PushSubscription.id)
    ):
        subs.setdefault(sub.user_id, []).append(sub)

    for user_id in users:
        person = persons.get(user_id)
        lang = (person.lang if person else None) or defaults.lang
        tz = (person.tz if person else None) or defaults.tz
        quiet = not policy.ignores_quiet_hours and is_quiet(person.quiet_hours if person else None, tz, now)
        devices = subs.get(user_id, [])
        for sub in devices:
            session.add(
                Delivery(
                    notice_id=row.id,
                    user_id=user_id,
                    subscription_id=sub.id,
                    channel="push",
                    lang=lang,
                    status="skipped_quiet" if quiet else "queued",
                    attempts=0,
                    created_at=now,
                    updated_at=now,
                )
            )
            if quiet:
                result.skipped_quiet += 1
            else:
                result.queued += 1
        if notice.dm == "always" or (notice.dm == "auto" and not devices):
            await send_dm(session, row, user_id, lang, defaults.public_url, now)
            result.dm_to.append(user_id)
        elif not devices:
            # dm="never": the caller tells the person in chat itself (notifications.reach.push).
            # Recorded all the same, so the phone page lists what reached them there.
            session.add(
                Delivery(
                    notice_id=row.id,
                    user_id=user_id,
                    channel="chat",
                    lang=lang,
                    status="chat",
                    attempts=0,
                    created_at=now,
                    updated_at=now,
                )
            )

    if result.queued:
        await timers.schedule(session, SEND_KIND, now, {"notice_id": row.id}, key=f"{SEND_KIND}:{row.id}", clock=clock)
    await session.flush()
    return result
