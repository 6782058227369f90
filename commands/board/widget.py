"""`!全局 挂件`: the board pinned in a room as a Matrix widget (`im.vector.modular.widgets`).

The handler queues an outbox action; the relay sets the state event after the turn commits
(a handler never talks to the homeserver), and the room is told how it went.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from bot.client import BotClient
from bot.errors import MatrixError
from commands.board.texts import render
from records import outbox
from records.models import OutboxMessage
from records.outbox_actions import Outcome, enqueue_action, register

KIND = "board.widget"
WIDGETS = "im.vector.modular.widgets"
#: One board widget per room: pinning it again replaces it.
WIDGET_ID = "zhiban-board"


def widget_content(url: str, *, name: str, creator: str) -> dict[str, object]:
    return {"id": WIDGET_ID, "type": "m.custom", "url": url, "name": name, "creatorUserId": creator, "data": {}}


async def queue_widget(session: AsyncSession, *, room_id: str, url: str, creator: str, lang: str) -> OutboxMessage:
    payload = {"room_id": room_id, "url": url, "creator": creator, "lang": lang}
    return await enqueue_action(session, KIND, payload, room_id=room_id, ref=f"board:widget:{room_id}")


def _say(room_id: str, key: str, lang: str) -> Callable[[AsyncSession], Awaitable[None]]:
    async def record(session: AsyncSession) -> None:
        await outbox.enqueue(session, outbox.text_content(render(key, lang)), room_id=room_id)

    return record


async def perform(client: BotClient, payload: dict[str, object]) -> Outcome:
    room_id, lang = str(payload["room_id"]), str(payload.get("lang") or "zh")
    content = widget_content(
        str(payload["url"]), name=render("board.widget.name", lang), creator=str(payload["creator"])
    )
    try:
        await client.put_state(room_id, WIDGETS, content, state_key=WIDGET_ID)
    except MatrixError as exc:
        if exc.status_code is None:
            raise  # the homeserver did not answer: the relay tries again
        return Outcome(_say(room_id, "board.widget.failed", lang), refused="board.widget.failed")
    return Outcome(_say(room_id, "board.widget.done", lang))


register(KIND, perform)
