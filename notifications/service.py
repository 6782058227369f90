"""`notify()`: the one door through which every flow reaches people's phones.

It only writes rows (a notice, a delivery per device, perhaps a DM in the outbox, and a
timer), inside the caller's transaction: if the flow's change rolls back, nothing is sent,
and if it commits, the worker sends. Nothing here waits for the network.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise
from typing import TYPE_CHECKING

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from notifications.models import Delivery, Notice, PushSubscription
from notifications.notice import NoticeSpec, localized_dict, pick
from notifications.quiet import is_quiet
from notifications.texts import text
from records import deferred, outbox, timers
from records.clock import Clock
from records.people import load as load_people

if TYPE_CHECKING:
    from records.config import Settings

SEND_KIND = "push.send"
# A fan-out larger than this is sent by several push.send timers, each a range of its deliveries
# (never splitting one person's devices), so that every worker takes a share.
SEND_PART = 500


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
    queued: list[list[Delivery]] = []  # per person, the deliveries to push
    persons = await load_people(session, users)  # read once per transaction (records.people)
    subs = await _devices(session, users)

    for user_id in users:
        person = persons.get(user_id)
        lang = (person.lang if person else None) or defaults.lang
        tz = (person.tz if person else None) or defaults.tz
        quiet = not policy.ignores_quiet_hours and is_quiet(person.quiet_hours if person else None, tz, now)
        devices = subs.get(user_id, [])
        person_queued: list[Delivery] = []
        for sub in devices:
            delivery = Delivery(
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
            session.add(delivery)
            if not quiet:
                person_queued.append(delivery)
            if quiet:
                result.skipped_quiet += 1
            else:
                result.queued += 1
        if person_queued:
            queued.append(person_queued)
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

    await session.flush()  # the deliveries get their ids, which the send parts name
    await _schedule_sends(session, row.id, queued, now, clock)
    await session.flush()
    return result


# session.info: each person's push subscriptions, read once per transaction (an action that
# pushes twice to the same person, as an approval's last decision does, reads them once).
_DEVICES = deferred.per_transaction("zhiban.push_devices")


async def _devices(session: AsyncSession, users: list[str]) -> dict[str, list[PushSubscription]]:
    known: dict[str, list[PushSubscription]] = session.info.setdefault(_DEVICES, {})
    missing = [user for user in users if user not in known]
    if missing:
        for user in missing:
            known[user] = []
        query = select(PushSubscription).where(PushSubscription.user_id.in_(missing)).order_by(PushSubscription.id)
        for sub in await session.scalars(query):
            known[sub.user_id].append(sub)
    return {user: known[user] for user in users}


@event.listens_for(Session, "before_flush")
def _devices_changed(session: Session, _context: object, _instances: object) -> None:
    """A device added or removed in this transaction: read them again."""
    if any(isinstance(o, PushSubscription) for o in (*session.new, *session.deleted)):
        session.info.pop(_DEVICES, None)


async def _schedule_sends(
    session: AsyncSession, notice_id: int, queued: list[list[Delivery]], now: datetime, clock: Clock
) -> None:
    """One push.send timer for the notice, or one per part of SEND_PART deliveries."""
    if not queued:
        return
    people = sorted(queued, key=lambda devices: min(d.id for d in devices))
    # A part is an id range: it must hold whole people and no one else's devices. The ids follow
    # the order the rows were added in; should they not, one timer sends everything.
    ordered = all(max(d.id for d in a) < min(d.id for d in b) for a, b in pairwise(people))
    parts: list[list[Delivery]] = [[]]
    for person in people if ordered else []:
        if len(parts[-1]) >= SEND_PART:
            parts.append([])
        parts[-1].extend(person)
    if len(parts) == 1:
        await timers.schedule(
            session, SEND_KIND, now, {"notice_id": notice_id}, key=f"{SEND_KIND}:{notice_id}", clock=clock
        )
        return
    for number, part in enumerate(parts):
        span = [min(d.id for d in part), max(d.id for d in part)]
        payload = {"notice_id": notice_id, "deliveries": span}
        await timers.schedule(session, SEND_KIND, now, payload, key=f"{SEND_KIND}:{notice_id}:{number}", clock=clock)
