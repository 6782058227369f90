"""The scripted tour `zhiban up` plays: a real Matrix client account talks to the bot.

It shows a newcomer, within a minute, what Zhiban does, and doubles as a smoke test of
the running stack: every step waits for the bot's real answer through the homeserver.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import nio

# What the tour says, in order. Each line is sent, and the bot's answer is printed.
TOUR_STEPS: list[str] = [
    "!在吗",
    "!帮助",
    "!提醒 我 10分钟后 查看防汛物资清单",
    "!审批 发起 关于防汛物资采购的请示 @zhang",
    "!会议 发起 防汛会商 明天下午3点 @li @zhang",
    "!督办 新建 排查低洼地带隐患 @li 周五前",
    "!值班",
    "!lang en",
    "!ping",
    "!lang zh",
]


@dataclass
class Line:
    who: str
    text: str


class TourClient:
    def __init__(self, homeserver: str, user_id: str, password: str) -> None:
        self.client = nio.AsyncClient(homeserver, user_id)
        self.password = password
        self._messages: list[tuple[str, str, str, str]] = []  # room, sender, event id, body
        self._new = asyncio.Event()
        self._sync_task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> TourClient:
        response = await self.client.login(self.password, device_name="Zhiban tour")
        if not isinstance(response, nio.LoginResponse):
            raise RuntimeError(f"tour login failed: {response}")
        await self.client.sync(timeout=0, full_state=True)
        self.client.add_event_callback(self._on_message, nio.RoomMessageText)
        self._sync_task = asyncio.create_task(self.client.sync_forever(timeout=10_000))
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._sync_task is not None:
            self._sync_task.cancel()
        await self.client.close()

    async def _on_message(self, room: nio.MatrixRoom, event: nio.RoomMessageText) -> None:
        self._messages.append((room.room_id, event.sender, event.event_id, event.body))
        self._new.set()

    async def open_room_with(self, bot_user: str, name: str) -> str:
        response = await self.client.room_create(name=name, invite=[bot_user])
        if not isinstance(response, nio.RoomCreateResponse):
            raise RuntimeError(f"could not create the tour room: {response}")
        return response.room_id

    async def say(self, room_id: str, text: str, bot_user: str, timeout: float = 60) -> list[str]:  # noqa: ASYNC109
        """Send a line and collect what the bot answers until it has been quiet a moment."""
        start = len(self._messages)
        await self.client.room_send(room_id, "m.room.message", {"msgtype": "m.text", "body": text})
        deadline = time.monotonic() + timeout
        answers: list[str] = []
        while time.monotonic() < deadline:
            self._new.clear()
            fresh = [m for m in self._messages[start:] if m[0] == room_id and m[1] == bot_user]
            if fresh and len(fresh) == len(answers):
                break  # nothing new for a moment: the answer is complete
            answers = [m[3] for m in fresh]
            try:
                await asyncio.wait_for(self._new.wait(), 1.5 if answers else deadline - time.monotonic())
            except TimeoutError:
                if answers:
                    break
        return answers

    async def wait_for_bot(self, room_id: str, bot_user: str, timeout: float = 90) -> None:  # noqa: ASYNC109
        """The bot greets a room it joins; wait for that."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(m[0] == room_id and m[1] == bot_user for m in self._messages):
                return
            self._new.clear()
            try:
                await asyncio.wait_for(self._new.wait(), 2)
            except TimeoutError:
                pass
        raise TimeoutError("the bot did not join the tour room")


# Where `zhiban up` remembers that the tour was played, and in which room.
TOUR_STATE = "tour.json"
# What later starts send instead of the whole tour: one line proves the bot answers again.
CHECK_STEPS: list[str] = ["!在吗"]


def tour_state(data_dir: Path) -> dict[str, str] | None:
    path = data_dir / TOUR_STATE
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # unreadable: play the tour again rather than fail the start
    return data if isinstance(data, dict) and "room_id" in data else None


def remember_tour(data_dir: Path, room_id: str) -> None:
    state = {"played_at": datetime.now(UTC).isoformat(timespec="seconds"), "room_id": room_id}
    (data_dir / TOUR_STATE).write_text(json.dumps(state), encoding="utf-8")


async def play_tour(
    homeserver: str,
    user_id: str,
    password: str,
    bot_user: str,
    out: Callable[[str], None] = print,
    *,
    steps: Sequence[str] = TOUR_STEPS,
    room_id: str | None = None,
) -> tuple[str, list[Line]]:
    """Say each step and print the answers; a known room is reused (a restart makes no new room)."""
    lines: list[Line] = []
    async with TourClient(homeserver, user_id, password) as tour:
        room = room_id
        if room is None:
            room = await tour.open_room_with(bot_user, "值班助手导览 Zhiban tour")
            await tour.wait_for_bot(room, bot_user)
        for text in steps:
            out(f"\n  👤 {user_id}: {text}")
            lines.append(Line(user_id, text))
            for answer in await tour.say(room, text, bot_user):
                out("  🤖 " + answer.replace("\n", "\n     "))
                lines.append(Line(bot_user, answer))
    return room, lines
