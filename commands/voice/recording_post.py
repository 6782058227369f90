"""A transcript too long for one message goes to its thread as a file: the "voice.post_file"
outbox action, done by the bot's relay (workers never talk to Matrix).

The worker queues the action with the text; the relay uploads it (encrypted in an encrypted
room) and, in the transaction that marks the action done, queues the m.file message in the
recording's thread. A crash between the upload and that commit uploads again: an unused copy
in the media repository, never a second message.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from bot.client import BotClient
from records import outbox
from records.outbox_actions import Outcome, enqueue_action, register

KIND = "voice.post_file"
MIMETYPE = "text/markdown"


async def queue_file(
    session: AsyncSession, *, room_id: str, relation: dict[str, object], filename: str, text: str, ref: str
) -> None:
    payload = {"room": room_id, "relation": relation, "filename": filename, "text": text}
    await enqueue_action(session, KIND, payload, room_id=room_id, ref=ref)


async def perform(client: BotClient, payload: dict[str, object]) -> Outcome:
    room_id, filename = str(payload["room"]), str(payload["filename"])
    data = str(payload["text"]).encode("utf-8")
    media = await client.upload_for_room(room_id, data, content_type=MIMETYPE, filename=filename)
    relation = payload.get("relation")
    content: dict[str, object] = {
        "msgtype": "m.file",
        "body": filename,
        "filename": filename,
        "info": {"mimetype": MIMETYPE, "size": len(data)},
        **media,
        "m.relates_to": relation if isinstance(relation, dict) else {},
        "m.mentions": {},
    }
    return Outcome(_send(room_id, content))


def _send(room_id: str, content: dict[str, object]) -> Callable[[AsyncSession], Awaitable[None]]:
    async def record(session: AsyncSession) -> None:
        await outbox.enqueue(session, content, room_id=room_id)

    return record


register(KIND, perform)
