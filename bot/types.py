"""Events as handlers see them: small, typed, and with helpers to answer."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.outbound import Outbound, Sent, current_outbound

_PILL = re.compile(r'href="https://matrix\.to/#/(@[^"?]+)')


@dataclass
class Event:
    room_id: str
    event_id: str
    sender: str
    timestamp_ms: int
    source: dict[str, Any]
    is_dm: bool = False
    # The client that received it, as what answers go through (bot.client.BotClient is one):
    # the events know nothing else of the client, so bot.types imports nothing of it.
    client: Outbound | None = field(default=None, repr=False)

    @property
    def outbound(self) -> Outbound:
        override = current_outbound.get()
        if override is not None:
            return override
        if self.client is None:
            raise RuntimeError("this event is not bound to a client")
        return self.client

    async def react(self, key: str) -> Sent:
        content = {"m.relates_to": {"rel_type": "m.annotation", "event_id": self.event_id, "key": key}}
        return await self.outbound.send(self.room_id, content, event_type="m.reaction")


@dataclass
class Media:
    url: str | None
    mimetype: str | None
    size: int | None
    duration_ms: int | None
    # For encrypted attachments: the JSON Web Key, iv and hashes needed to decrypt.
    encrypted_file: dict[str, Any] | None = None


@dataclass
class Message(Event):
    body: str = ""
    html: str | None = None
    msgtype: str = "m.text"
    thread_root: str | None = None
    reply_to: str | None = None
    mentions: list[str] = field(default_factory=list)
    media: Media | None = None
    is_voice: bool = False

    @property
    def thread_or_self(self) -> str:
        """The thread this message belongs to, or the thread it would start."""
        return self.thread_root or self.event_id

    def _relation(self, *, in_thread: bool, reply: bool) -> dict[str, Any] | None:
        if in_thread or self.thread_root:
            return {
                "rel_type": "m.thread",
                "event_id": self.thread_or_self,
                "is_falling_back": not reply,
                "m.in_reply_to": {"event_id": self.event_id},
            }
        if reply:
            return {"m.in_reply_to": {"event_id": self.event_id}}
        return None

    async def reply(
        self,
        text: str,
        html: str | None = None,
        *,
        in_thread: bool = False,
        mention_sender: bool = False,
        ref: str | None = None,
        mention: Sequence[str] = (),
    ) -> Sent:
        """Answer as a reply; inside a thread (or with in_thread) the answer stays in the thread.

        `mention` names the people the answer asks to act (their clients notify them)."""
        content = text_content(text, html)
        relation = self._relation(in_thread=in_thread, reply=True)
        if relation:
            content["m.relates_to"] = relation
        users = [*([self.sender] if mention_sender else []), *mention]
        content["m.mentions"] = {"user_ids": list(dict.fromkeys(users))} if users else {}
        return await self.outbound.send(self.room_id, content, ref=ref)

    async def answer(self, text: str, html: str | None = None, *, ref: str | None = None) -> Sent:
        """Say something in the same room (and thread), without quoting."""
        content = text_content(text, html)
        if self.thread_root:
            content["m.relates_to"] = {"rel_type": "m.thread", "event_id": self.thread_root}
        return await self.outbound.send(self.room_id, content, ref=ref)

    async def edit(self, event_id: str, text: str, html: str | None = None) -> Sent:
        new = text_content(text, html)
        content = {
            **text_content("* " + text, None if html is None else "* " + html),
            "m.new_content": new,
            "m.relates_to": {"rel_type": "m.replace", "event_id": event_id},
        }
        return await self.outbound.send(self.room_id, content)

    async def redact(self, event_id: str | None = None, reason: str | None = None) -> None:
        await self.outbound.redact(self.room_id, event_id or self.event_id, reason)


@dataclass
class ReactionEvent(Event):
    key: str = ""
    reacts_to: str = ""


@dataclass
class MemberEvent(Event):
    membership: str = ""
    state_key: str = ""
    prev_membership: str | None = None
    is_direct: bool = False


@dataclass
class ReceiptEvent(Event):
    """A person's read receipt: `sender` has read `read_up_to` and everything before it in the room.

    Receipts are ephemeral and have no event id of their own; `event_id` is derived from the
    room, the reader, the event read and the receipt type, so the same receipt delivered twice
    (a replayed sync) is the same event. `timestamp_ms` is when the homeserver took the receipt.
    """

    read_up_to: str = ""
    receipt_type: str = "m.read"
    thread_id: str | None = None


@dataclass
class RedactionEvent(Event):
    redacts: str = ""
    reason: str | None = None


def text_content(body: str, html: str | None = None) -> dict[str, Any]:
    content: dict[str, Any] = {"msgtype": "m.text", "body": body}
    if html is not None:
        content["format"] = "org.matrix.custom.html"
        content["formatted_body"] = html
    return content


def mentions_in(content: dict[str, Any]) -> list[str]:
    """Users mentioned by a message: intentional mentions first, then pills in the HTML."""
    found: list[str] = []
    intentional = content.get("m.mentions")
    ids = intentional.get("user_ids") if isinstance(intentional, dict) else None
    if isinstance(ids, list):
        found.extend(u for u in ids if isinstance(u, str))
    html = content.get("formatted_body")
    if isinstance(html, str):
        found.extend(m.replace("%40", "@").replace("%3A", ":") for m in _PILL.findall(html))
    return list(dict.fromkeys(found))
