"""One way to reach people: a DM, a room post, a push to a person's devices, everyone with a role.

Every call only writes rows (outbox messages, a notice and its deliveries) in the caller's
transaction, so a message goes out exactly when the change that causes it commits. The rules
are decided here and nowhere else:

- which outbox lane a message takes (`lane`): urgent ones (alerts, orders, nags, report
  deadlines, alarms) go before routine ones after an outage;
- urgency, TTL and quiet hours of a push follow its kind (`notifications.notice.POLICIES`, applied
  by `notifications.service.notify`): an emergency rings through quiet hours, a reminder waits;
- a sensitive push carries no content, only "you have a new item";
- each reader gets texts in their own language and zone, else the caller's defaults (`reader`).

Features keep their texts; they hand in a function that renders one reader's text. This
package never imports the bot: it writes rows, and the bot's relay sends them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from notifications import chat_notices
from notifications.names import ids_in, mentions, names_for
from notifications.notice import Localized, NoticeSpec
from notifications.service import NotifyResult, notify
from records import outbox, people
from records.clock import Clock
from records.models import OutboxMessage, Person


@dataclass(frozen=True)
class Reader:
    """Someone a text is written for: who, in which language, in which time zone."""

    user_id: str
    lang: str
    tz: str


async def reader(session: AsyncSession, user_id: str, *, lang: str, tz: str) -> Reader:
    """The person's own language and zone, the given defaults where they kept none."""
    own_lang, own_tz = await people.preferences(session, user_id)
    return Reader(user_id, own_lang or lang, own_tz or tz)


async def language_of(session: AsyncSession, user_id: str, default: str) -> str:
    """The person's own language, `default` where they kept none."""
    lang, _ = await people.preferences(session, user_id)
    return lang or default


def lane(urgent: bool) -> int:
    """The outbox priority: urgent messages are relayed first when a backlog builds up."""
    return outbox.URGENT if urgent else outbox.NORMAL


async def _named(
    session: AsyncSession, body: str, html: str | None, mention: Iterable[str]
) -> tuple[str, str | None, list[str]]:
    """The plain body and HTML of a text written with Matrix IDs: people by name, as pills; the
    people mentioned but not named in it follow on a line of their own. A caller's own HTML is
    kept as it is, with its body."""
    users = list(dict.fromkeys(mention))
    if html is not None:
        if users:
            names = await names_for(session, users=users)
            body = f"{body}\n{'、'.join(names.of(u) for u in users)}"
            html = f"{html}<br>{' '.join(names.pill(u) for u in users)}"
        return body, html, users
    named = ids_in(body)
    names = await names_for(session, body, users=users)
    if not named and not users:
        return body, None, users
    plain, formatted = names.plain(body), names.html(body)
    extra = [u for u in users if u not in named]
    if extra:
        plain += "\n" + "、".join(names.of(u) for u in extra)
        formatted += "<br>" + " ".join(names.pill(u) for u in extra)
    return plain, formatted, users


async def dm(
    session: AsyncSession,
    user_id: str,
    body: str,
    *,
    html: str | None = None,
    msgtype: str = "m.text",
    ref: str | None = None,
    urgent: bool = False,
    caused_by: str | None = None,
    mention: bool = False,
    room_ref: int | None = None,
) -> OutboxMessage:
    """A direct message to one person (`caused_by` is told if it can never be sent); people it
    names are shown by name. `mention` names the reader too, for what they must act on now (a
    nag), so that it notifies even where a DM room's notifications were turned down."""
    plain, formatted, _ = await _named(session, body, html, ())
    content = outbox.text_content(plain, formatted, msgtype=msgtype)
    if mention:
        content["m.mentions"] = mentions([user_id])
    row = await outbox.enqueue(
        session, content, to_user=user_id, ref=ref, priority=lane(urgent), caused_by=caused_by, room_ref=room_ref
    )
    await chat_notices.note(session, [user_id], content["body"], at=row.created_at, ref=ref)
    return row


async def post(
    session: AsyncSession,
    room_id: str | None,
    body: str,
    *,
    html: str | None = None,
    msgtype: str = "m.text",
    mention: Iterable[str] = (),
    ref: str | None = None,
    urgent: bool = False,
    caused_by: str | None = None,
    room_ref: int | None = None,
) -> OutboxMessage:
    """A message in a room, people shown by name; the people in `mention` (only those who must
    act on it) are named so that their clients notify them. `room_ref` with no `room_id`: in the
    room that outbox action makes, once made (records.outbox.enqueue)."""
    plain, formatted, users = await _named(session, body, html, mention)
    content = outbox.text_content(plain, formatted, msgtype=msgtype)
    if users:
        content["m.mentions"] = mentions(users)
    row = await outbox.enqueue(
        session, content, room_id=room_id, ref=ref, priority=lane(urgent), caused_by=caused_by, room_ref=room_ref
    )
    await chat_notices.note(session, users, content["body"], at=row.created_at, ref=ref)
    return row


async def card(
    session: AsyncSession,
    content: dict[str, Any],
    *,
    room_id: str | None = None,
    to_user: str | None = None,
    ref: str | None = None,
    urgent: bool = False,
    caused_by: str | None = None,
) -> OutboxMessage:
    """A card built by `notifications.card` (its mentions chosen by the feature), in a room or a
    person's DM; those it mentions have it among their notices, as for `post`."""
    row = await outbox.enqueue(
        session, content, room_id=room_id, to_user=to_user, ref=ref, priority=lane(urgent), caused_by=caused_by
    )
    users = list((content.get("m.mentions") or {}).get("user_ids") or [])
    await chat_notices.note(session, users, str(content.get("body", "")), at=row.created_at, ref=ref)
    return row


async def push(
    session: AsyncSession,
    users: Iterable[str],
    *,
    kind: str,
    title: Localized,
    body: Localized,
    clock: Clock,
    topic: str | None = None,
    ref: str | None = None,
    sensitive: bool = False,
) -> NotifyResult | None:
    """A push to each person's devices, once per person; None when there is nobody.

    The chat message is the caller's to send (by `dm` or `post`), so a person without a device
    gets no second DM from here."""
    recipients = list(dict.fromkeys(users))
    if not recipients:
        return None
    spec = NoticeSpec(kind=kind, title=title, body=body, topic=topic, ref=ref, sensitive=sensitive, dm="never")
    await chat_notices.pushed(session, recipients)  # the push's record lists it, not a second one
    return await notify(session, recipients, spec, clock=clock)


async def holders(session: AsyncSession, role: str, *, configured: Iterable[str] = ()) -> list[str]:
    """Everyone with `role`: those the config names (`configured`) and those granted it in chat."""
    granted = [
        person.user_id
        for person in await session.scalars(select(Person).order_by(Person.user_id))
        if role in (person.roles or [])
    ]
    return list(dict.fromkeys([*configured, *granted]))


# What a feature renders for one reader: the DM's text.
Compose = Callable[[Reader], str]


async def tell(
    session: AsyncSession,
    users: Iterable[str],
    compose: Compose,
    *,
    clock: Clock,
    lang: str,
    tz: str,
    ref: Callable[[str], str | None] | str | None = None,
    urgent: bool = False,
    caused_by: str | None = None,
    push_kind: str | None = None,
    push_title: Callable[[Reader], str] | None = None,
    topic: str | None = None,
) -> list[Reader]:
    """DM each person once, their own text in their language and zone, and push it when
    `push_kind` is given (titled `push_title`). `ref` names the DM (per user when a function)."""
    readers: list[Reader] = []
    for user_id in dict.fromkeys(users):
        who = await reader(session, user_id, lang=lang, tz=tz)
        body = compose(who)
        await dm(session, user_id, body, ref=ref(user_id) if callable(ref) else ref, urgent=urgent, caused_by=caused_by)
        if push_kind is not None:
            title = push_title(who) if push_title is not None else body.split("\n", 1)[0]
            await push(session, [user_id], kind=push_kind, title=title, body=body, clock=clock, topic=topic, ref=topic)
        readers.append(who)
    return readers


async def tell_role(
    session: AsyncSession,
    role: str,
    compose: Compose,
    *,
    configured: Iterable[str] = (),
    clock: Clock,
    lang: str,
    tz: str,
    urgent: bool = False,
    caused_by: str | None = None,
    push_kind: str | None = None,
    push_title: Callable[[Reader], str] | None = None,
    topic: str | None = None,
) -> list[Reader]:
    """`tell` everyone with `role` (see `holders`), each once."""
    users = await holders(session, role, configured=configured)
    return await tell(
        session,
        users,
        compose,
        clock=clock,
        lang=lang,
        tz=tz,
        urgent=urgent,
        caused_by=caused_by,
        push_kind=push_kind,
        push_title=push_title,
        topic=topic,
    )
