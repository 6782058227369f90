"""The outbox: Matrix events to send, written in the transaction that causes them.

Services and workers never talk to Matrix; they add rows here and the bot relays them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

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
) -> OutboxMessage:
    """Queue one event for a room, or for a user's direct-message room.

    `secrets` maps placeholders in `content` to the secrets they stand for (SECRETS_KEY).
    `priority` URGENT sends it before ordinary rows of other rooms when a backlog builds up;
    `caused_by` is who is told if it can never be sent (by default the sender of the command
    this transaction handles, see `attribute_to`)."""
    if (room_id is None) == (to_user is None):
        raise ValueError("give exactly one of room_id and to_user")
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
    )
    session.add(row)
    await session.flush()
    # Every row of the transaction, however it was written, is handed to the relay on commit.
    session.info.setdefault("outbox_rows", []).append(row)
    return row


def rows_written(session: AsyncSession) -> list[OutboxMessage]:
    return list(session.info.get("outbox_rows", []))


async def enqueue_edit(session: AsyncSession, ref: str, new_content: dict[str, Any]) -> OutboxMessage | None:
    """Replace the content of the card last sent under `ref` (an m.replace edit)."""
    original = await latest_with_ref(session, ref)
    if original is None:
        return None
    content = dict(new_content)
    content["body"] = "* " + str(new_content.get("body", ""))
    content["m.new_content"] = new_content
    return await enqueue(
        session,
        content,
        room_id=original.room_id,
        to_user=original.to_user if original.room_id is None else None,
        relates_to_outbox_id=original.id,
        relation="m.replace",
    )


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


async def ref_for_event(session: AsyncSession, event_id: str) -> str | None:
    """The logical name of what the bot sent as `event_id` (e.g. a reaction on "card:A12")."""
    return await session.scalar(
        select(OutboxMessage.ref).where(OutboxMessage.event_id == event_id, OutboxMessage.ref.is_not(None)).limit(1)
    )
