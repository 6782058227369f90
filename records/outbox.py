"""The outbox: Matrix events to send, written in the transaction that causes them.

Services and workers never talk to Matrix; they add rows here and the bot relays them.
"""

from __future__ import annotations

import secrets as _secrets
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from records import deferred
from records.clock import SystemClock
from records.models import OutboxMessage

# Hooks run after a commit that added outbox rows, so that an in-process relay sends them at
# once (given the committed rows, it need not read them back) instead of on its next poll.
_wakeups: list[Callable[[list[OutboxMessage]], None]] = []


def on_new_messages(callback: Callable[[list[OutboxMessage]], None]) -> None:
    _wakeups.append(callback)


def wake_relay(committed: list[OutboxMessage] | None = None) -> None:
    for callback in _wakeups:
        callback(list(committed or []))


# Secrets a message carries (a sign-in link) are kept under this key of the stored content,
# the body holding a placeholder. The relay puts them in when it sends and drops the key once
# the row is marked sent (or has failed for good), so a database reader never finds a usable
# secret in an old message, and a resend after a crash still carries the real one.
SECRETS_KEY = "zhiban.secrets"

# Priorities: after an outage the relay serves lanes whose next row is urgent (an incident
# alert, an order, a nag, a report-clock reminder) before the rest; order within a lane stays.
NORMAL = 0
URGENT = 1

# A row of this event type is not an event but an action: the relay creates a room (once, even
# across a crash: see zhiban.relay) and records its id on the row. Rows with `room_ref` set to
# the action's id wait for that room; the placeholders below in their content are filled in.
CREATE_ROOM = "zhiban.room.create"
# The state event a created room carries, naming the action that made it, so that the relay
# finds the room again instead of making a second one after a crash.
CREATION_STATE = "org.zhiban.creation"
ROOM_ID = "\u27e6room\u27e7"
ROOM_LINK = "\u27e6room-link\u27e7"
# State events: sent with `room_put_state` (state key ""). A "pin" row pins its target's event.
STATE_EVENTS = ("m.room.pinned_events",)
PIN = "pin"

# The `ref` of the notices the relay writes about a message that could not be sent: a notice
# that fails itself is not reported again (that would loop).
FAILURE_NOTICE_REF = "outbox.failed:"


def attribute_to(session: AsyncSession, user_id: str | None) -> None:
    """Rows this transaction writes without a `caused_by` of their own are caused by `user_id`
    (the sender of the command being handled), who is told if one of them cannot be sent."""
    session.info["caused_by"] = user_id


def _replace(value: Any, secrets: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        for placeholder, secret in secrets.items():
            value = value.replace(placeholder, secret)
        return value
    if isinstance(value, dict):
        return {key: _replace(item, secrets) for key, item in value.items()}
    if isinstance(value, list):
        return [_replace(item, secrets) for item in value]
    return value


def sendable(content: Mapping[str, Any]) -> dict[str, Any]:
    """The content as it goes to Matrix: the placeholders filled in, the secrets key gone."""
    secrets = content.get(SECRETS_KEY) or {}
    rest = {key: value for key, value in content.items() if key != SECRETS_KEY}
    return _replace(rest, secrets) if secrets else rest


def redacted(content: Mapping[str, Any]) -> dict[str, Any] | None:
    """The content to keep once sent: without its secrets; None when it carried none."""
    if SECRETS_KEY not in content:
        return None
    return {key: value for key, value in content.items() if key != SECRETS_KEY}


def text_content(body: str, html: str | None = None, *, msgtype: str = "m.text") -> dict[str, Any]:
    content: dict[str, Any] = {"msgtype": msgtype, "body": body}
    if html is not None:
        content["format"] = "org.matrix.custom.html"
        content["formatted_body"] = html
    return content


async def enqueue(
    session: AsyncSession,
    content: dict[str, Any],
    *,
    room_id: str | None = None,
    to_user: str | None = None,
    event_type: str = "m.room.message",
    ref: str | None = None,
    relates_to_outbox_id: int | None = None,
    relation: str | None = None,
    secrets: Mapping[str, str] | None = None,
    priority: int = NORMAL,
    caused_by: str | None = None,
    room_ref: int | None = None,
) -> OutboxMessage:
    """Queue one event for a room, or for a user's direct-message room.

    With `room_ref` (the id of a CREATE_ROOM row) it waits until that room exists; it is sent in
    that room when neither `room_id` nor `to_user` is given.

    `secrets` maps placeholders in `content` to the secrets they stand for (SECRETS_KEY).
    `priority` URGENT sends it before ordinary rows of other rooms when a backlog builds up;
    `caused_by` is who is told if it can never be sent (by default the sender of the command
    this transaction handles, see `attribute_to`)."""
    # A row goes to a room, a person's DM, or (room_ref alone) the room an action creates; an
    # action creating a room goes nowhere yet.
    creates = event_type == CREATE_ROOM and room_id is None and to_user is None
    if (room_id is None) == (to_user is None) and not creates and not (room_ref is not None and room_id is None):
        raise ValueError("give exactly one of room_id, to_user and room_ref")
    if secrets:
        content = {**content, SECRETS_KEY: dict(secrets)}
    row = OutboxMessage(
        created_at=SystemClock().now(),
        room_id=room_id,
        to_user=to_user,
        event_type=event_type,
        content=content,
        ref=ref,
        relates_to_outbox_id=relates_to_outbox_id,
        relation=relation,
        attempts=0,
        failed=False,
        priority=priority,
        caused_by=caused_by or session.info.get("caused_by"),
        room_ref=room_ref,
    )
    session.add(row)
    await session.flush()
    # Every row of the transaction, however it was written, is handed to the relay on commit.
    session.info.setdefault("outbox_rows", []).append(row)
    sent_as = session.info.get(_BY_REF, {}).get(ref) if relation is None else None
    if sent_as is not None:
        sent_as.append(row)
    return row


def rows_written(session: AsyncSession) -> list[OutboxMessage]:
    return list(session.info.get("outbox_rows", []))


async def enqueue_edit(session: AsyncSession, ref: str, new_content: dict[str, Any]) -> OutboxMessage | None:
    """Replace the content of the card last sent under `ref` (an m.replace edit)."""
    original = await latest_with_ref(session, ref)
    if original is None:
        return None
    return await _edit(session, original, new_content)


# session.info: ref -> the messages sent under it (not edits, not failed), read by prefetch_refs
# and kept up to date by enqueue for the rest of the transaction.
_BY_REF = deferred.per_transaction("zhiban.outbox_by_ref")


def _sent_as(refs: list[str]) -> Select[OutboxMessage]:
    return (
        select(OutboxMessage)
        .where(OutboxMessage.ref.in_(refs), OutboxMessage.relation.is_(None), OutboxMessage.failed.is_(False))
        .order_by(OutboxMessage.id)
    )


async def prefetch_refs(session: AsyncSession, refs: list[str]) -> dict[str, list[OutboxMessage]]:
    """The messages sent under `refs` (not edits, not failed), read in one query for all refs
    this transaction has not read yet: what it is about to edit (a card and the DMs about one
    item), instead of one query per ref."""
    by_ref: dict[str, list[OutboxMessage]] = session.info.setdefault(_BY_REF, {})
    wanted = [ref for ref in dict.fromkeys(refs) if ref not in by_ref]
    if wanted:
        for ref in wanted:
            by_ref[ref] = []
        for row in await session.scalars(_sent_as(wanted)):
            by_ref[row.ref or ""].append(row)
    return {ref: list(by_ref[ref]) for ref in refs}


async def sent_refs(session: AsyncSession, refs: list[str]) -> set[str]:
    """Those of `refs` under which a message (not an edit) was sent: the names alone, one query."""
    found = await session.scalars(
        select(OutboxMessage.ref)
        .where(OutboxMessage.ref.in_(refs), OutboxMessage.relation.is_(None), OutboxMessage.sent_at.is_not(None))
        .distinct()
    )
    return {ref for ref in found if ref}


async def enqueue_edits(session: AsyncSession, ref: str, new_content: dict[str, Any]) -> list[OutboxMessage]:
    """Replace the content of every message sent under `ref` (a card and its reposts, a DM and
    its reminders), so that no copy on anyone's screen keeps asking for what is done."""
    known = session.info.get(_BY_REF, {}).get(ref)
    originals = list(known) if known is not None else list(await session.scalars(_sent_as([ref])))
    return [await _edit(session, original, new_content) for original in originals if not original.failed]


async def _edit(session: AsyncSession, original: OutboxMessage, new_content: dict[str, Any]) -> OutboxMessage:
    """An m.replace of `original`. The edit keeps the original's msgtype (an m.notice stays a
    notice: clients show the new content with the type it carries), and mentions at its top
    level only those the new content names that the original did not, as MSC3952 asks: an edit
    pings only who is newly asked to act."""
    new_content = dict(new_content)
    kept_type = (original.content or {}).get("msgtype")
    if kept_type and "msgtype" in new_content:
        new_content["msgtype"] = kept_type
    content = dict(new_content)
    content["body"] = "* " + str(new_content.get("body", ""))
    if "formatted_body" in new_content:
        content["formatted_body"] = "* " + str(new_content["formatted_body"])
    if "m.mentions" in new_content:
        before = set(((original.content or {}).get("m.mentions") or {}).get("user_ids") or [])
        now = list((new_content["m.mentions"] or {}).get("user_ids") or [])
        content["m.mentions"] = {"user_ids": [user for user in now if user not in before]}
    content["m.new_content"] = new_content
    return await enqueue(
        session,
        content,
        room_id=original.room_id,
        to_user=original.to_user if original.room_id is None else None,
        relates_to_outbox_id=original.id,
        relation="m.replace",
        room_ref=original.room_ref if original.room_id is None else None,
    )


# -- rooms the relay creates -------------------------------------------------------------------
# Ref prefix -> what to record once a room made for a row with that ref exists (e.g. the
# incident's room id), in the transaction that marks the action done.
_room_made_hooks: dict[str, Callable[[AsyncSession, str, str], Awaitable[None]]] = {}


def on_room_made(ref_prefix: str, callback: Callable[[AsyncSession, str, str], Awaitable[None]]) -> None:
    _room_made_hooks[ref_prefix] = callback


async def enqueue_room(
    session: AsyncSession,
    *,
    ref: str,
    name: str,
    topic: str,
    invite: list[str],
    moderators: list[str],
    priority: int = NORMAL,
) -> OutboxMessage:
    """Queue the creation of a room (with its invitations and moderators); rows that belong in
    it, or name it, are then queued with `room_ref=<this row's id>`.

    The creation id is kept in the room's state (CREATION_STATE) so that the relay recognises a
    room it made for this row before a crash, and never makes a second."""
    spec = {
        "body": name,
        "name": name,
        "topic": topic,
        "invite": list(dict.fromkeys(invite)),
        "moderators": list(dict.fromkeys(moderators)),
        "creation": f"{ref}#{_secrets.token_hex(8)}",
    }
    return await enqueue(session, spec, event_type=CREATE_ROOM, ref=ref, priority=priority)


async def room_made(session: AsyncSession, action: OutboxMessage, room_id: str) -> None:
    """Mark a CREATE_ROOM row done with its room, and record the room where its ref says."""
    action.room_id = room_id
    action.sent_at = SystemClock().now()
    for prefix, callback in _room_made_hooks.items():
        if (action.ref or "").startswith(prefix):
            await callback(session, action.ref or "", room_id)


async def wait_for_room(session: AsyncSession, outbox_id: int | None, room_ref: int) -> None:
    """Hold a queued row (a handler's reply) until the room of action `room_ref` exists."""
    row = await session.get(OutboxMessage, outbox_id) if outbox_id is not None else None
    if row is not None:
        row.room_ref = room_ref
        await session.flush()


def fill_room(content: Any, room_id: str, link: str) -> Any:
    """The content with the room placeholders (ROOM_ID, ROOM_LINK) filled in."""
    return _replace(content, {ROOM_LINK: link, ROOM_ID: room_id})


async def latest_with_ref(session: AsyncSession, ref: str) -> OutboxMessage | None:
    return await session.scalar(
        select(OutboxMessage)
        .where(OutboxMessage.ref == ref, OutboxMessage.relation.is_(None))
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    )


async def pending(session: AsyncSession, limit: int = 50) -> list[OutboxMessage]:
    rows = await session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.sent_at.is_(None), OutboxMessage.failed.is_(False))
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    return list(rows)


# session.info: event id -> the ref of what the bot sent as it (None: nothing it named), read once
# per transaction: a reaction is offered to each feature that handles one, and each asks.
_REF_OF_EVENT = deferred.per_transaction("zhiban.outbox_ref_of_event")


async def ref_for_event(session: AsyncSession, event_id: str) -> str | None:
    """The logical name of what the bot sent as `event_id` (e.g. a reaction on "card:A12")."""
    known: dict[str, str | None] = session.info.setdefault(_REF_OF_EVENT, {})
    if event_id not in known:
        known[event_id] = await session.scalar(
            select(OutboxMessage.ref).where(OutboxMessage.event_id == event_id, OutboxMessage.ref.is_not(None)).limit(1)
        )
    return known[event_id]
