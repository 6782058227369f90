"""Event conversion: a (decrypted) nio event becomes a framework event, or nothing.

Mixed into `bot.client.BotClient`. Here the bot decides what it will not serve at all: its
own events, senders outside its join policy, events older than `max_event_age_s`, edits, and
anything malformed.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from typing import Any, cast

import nio

from bot.options import ClientOptions
from bot.outbound import Outbound
from bot.types import Event, Media, MemberEvent, Message, ReactionEvent, ReceiptEvent, RedactionEvent, mentions_in

# The key Element and FluffyChat put in a recorded voice note (MSC3245).
VOICE_MARKER = "org.matrix.msc3245.voice"

log = logging.getLogger(__name__)


class EventConversion:
    """Turns nio's events into `bot.types` events that carry the client they came through."""

    user_id: str
    options: ClientOptions
    _started_ms: int
    # From `bot.direct.DirectRooms`, the other half of the client.
    is_dm: Callable[[str], bool]

    def convert(self, room_id: str, raw: Any) -> Event | None:
        """Turn a (decrypted) nio event into a framework event, or None to ignore it."""
        source = getattr(raw, "source", None) or {}
        if isinstance(raw, nio.MegolmEvent):
            log.warning("could not decrypt %s in %s (session %s)", raw.event_id, room_id, raw.session_id)
            return None
        sender = source.get("sender") or getattr(raw, "sender", "")
        if not isinstance(sender, str) or sender == self.user_id:
            return None
        if not self.options.join_policy.allows(sender):
            # Someone from outside the office (a federated room): not ours to serve.
            return None
        ts = int(source.get("origin_server_ts") or getattr(raw, "server_timestamp", 0) or 0)
        if ts and ts < self._started_ms - self.options.max_event_age_s * 1000:
            return None
        common: dict[str, Any] = {
            "room_id": room_id,
            "event_id": source.get("event_id") or getattr(raw, "event_id", ""),
            "sender": sender,
            "timestamp_ms": ts,
            "source": source,
            "is_dm": self.is_dm(room_id),
            "client": self._client(),
        }
        etype = source.get("type")
        content = source.get("content") or {}
        if not isinstance(content, dict):
            return None
        if etype == "m.reaction" or isinstance(raw, nio.ReactionEvent):
            rel = content.get("m.relates_to") or {}
            if not isinstance(rel, dict) or not rel.get("key") or not rel.get("event_id"):
                return None
            return ReactionEvent(**common, key=str(rel["key"]), reacts_to=str(rel["event_id"]))
        if etype == "m.room.redaction":
            redacts = source.get("redacts") or content.get("redacts") or ""
            return RedactionEvent(**common, redacts=str(redacts), reason=content.get("reason"))
        if etype == "m.room.member":
            return MemberEvent(
                **common,
                membership=str(content.get("membership", "")),
                state_key=str(source.get("state_key", "")),
                prev_membership=(source.get("unsigned") or {}).get("prev_content", {}).get("membership"),
                is_direct=bool(content.get("is_direct")),
            )
        if etype == "m.room.message":
            return self._message(common, content)
        return None

    def receipts(self, room_id: str, ephemeral: list[Any]) -> list[ReceiptEvent]:
        """The read receipts of other people in a room's ephemeral events (see `receipt_rooms`)."""
        wanted = self.options.receipt_rooms
        if wanted == "none" or (wanted == "direct" and not self.is_dm(room_id)):
            return []
        oldest = self._started_ms - self.options.max_event_age_s * 1000
        found: list[ReceiptEvent] = []
        for raw in ephemeral:
            if not isinstance(raw, nio.ReceiptEvent):
                continue
            for receipt in raw.receipts:
                kind = str(receipt.receipt_type)
                user = receipt.user_id
                if kind not in ("m.read", "m.read.private") or user == self.user_id:
                    continue
                if not self.options.join_policy.allows(user) or (receipt.timestamp and receipt.timestamp < oldest):
                    continue
                # The same receipt replayed gives the same id, so the ledger sees it once.
                digest = hashlib.sha256(f"{room_id}|{user}|{receipt.event_id}|{kind}".encode()).hexdigest()
                found.append(
                    ReceiptEvent(
                        room_id=room_id,
                        event_id=f"receipt:{digest[:40]}",
                        sender=user,
                        timestamp_ms=int(receipt.timestamp or 0),
                        source={"type": "m.receipt", "event_id": receipt.event_id, "receipt_type": kind},
                        is_dm=self.is_dm(room_id),
                        client=self._client(),
                        read_up_to=receipt.event_id,
                        receipt_type=kind,
                        thread_id=receipt.thread_id,
                    )
                )
        return found

    def _message(self, common: dict[str, Any], content: dict[str, Any]) -> Message | None:
        msgtype = content.get("msgtype")
        body = content.get("body")
        if not isinstance(msgtype, str) or not isinstance(body, str):
            return None  # malformed: ignore rather than guess
        rel: dict[str, Any] = _dict(content.get("m.relates_to"))
        if rel.get("rel_type") == "m.replace":
            return None  # edits of earlier messages are not new commands
        thread_root = rel.get("event_id") if rel.get("rel_type") == "m.thread" else None
        in_reply = _dict(rel.get("m.in_reply_to"))
        reply_to = None if rel.get("is_falling_back") else in_reply.get("event_id")
        media = None
        if msgtype in ("m.audio", "m.file", "m.image", "m.video"):
            info = _dict(content.get("info"))
            file = content.get("file") if isinstance(content.get("file"), dict) else None
            media = Media(
                url=(file or {}).get("url") or content.get("url"),
                mimetype=info.get("mimetype"),
                size=info.get("size") if isinstance(info.get("size"), int) else None,
                duration_ms=info.get("duration") if isinstance(info.get("duration"), int) else None,
                encrypted_file=file,
            )
        html = content.get("formatted_body") if content.get("format") == "org.matrix.custom.html" else None
        body = _strip_reply_fallback(body) if reply_to else body
        return Message(
            **common,
            body=body,
            html=html if isinstance(html, str) else None,
            msgtype=msgtype,
            thread_root=thread_root,
            reply_to=reply_to,
            mentions=mentions_in(content),
            media=media,
            # MSC3245: only a recorded voice note is marked; a music file or a meeting recording
            # sent as audio is not a voice note and is left alone.
            is_voice=msgtype == "m.audio" and VOICE_MARKER in content,
        )

    def _client(self) -> Outbound:
        # The mixin is only ever a BotClient; events carry it as what they answer through.
        return cast(Outbound, self)


def _dict(value: Any) -> dict[str, Any]:
    """A JSON object from an event, or an empty one when the sender put something else there."""
    return value if isinstance(value, dict) else {}


def _strip_reply_fallback(body: str) -> str:
    # Replies quote the original as "> <@user> text" lines followed by a blank line.
    lines = body.splitlines()
    while lines and lines[0].startswith(">"):
        lines.pop(0)
    if lines and not lines[0].strip():
        lines.pop(0)
    return "\n".join(lines) if lines else body
