"""A bot turn's board wake-up names what the turn changed, through the real dispatcher and
middleware (SQLite and PostgreSQL): a new task wakes the boards' task sections; a turn that
only answered wakes no board at all (before, every reply made every open board read again)."""

from __future__ import annotations

from datetime import UTC, datetime

from records.clock import FrozenClock
from records.db import Database
from tests.support.dispatch_chat import DispatchChat
from zhiban import board_change
from zhiban.wakeup import BOARD, WakeBus

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
ROOM = "!office:localhost"
BOSS, LEAD = "@boss:localhost", "@lead:localhost"


class RecordingBus(WakeBus):
    """The wake-ups a turn publishes, kept instead of sent."""

    def __init__(self) -> None:
        super().__init__("redis://unused", "board-test")
        self.sent: list[tuple[str, str]] = []

    async def publish(self, topic: str, payload: str = "") -> None:
        self.sent.append((topic, payload))

    def boards(self) -> list[str]:
        return [payload for topic, payload in self.sent if topic == BOARD]


async def test_a_turn_names_what_it_changed_and_a_mere_answer_wakes_no_board(db: Database) -> None:
    chat = DispatchChat(db, FrozenClock(T0), room=ROOM)
    bus = RecordingBus()
    chat.dispatcher.context["wake_bus"] = bus

    answer = await chat.say(BOSS, "!帮助")
    assert answer, "the help is answered"
    assert bus.boards() == [], "an answer alone changes no board"

    await chat.say(BOSS, f"!督办 整理会议纪要 {LEAD} 截止 3天后")
    [payload] = bus.boards()
    sections, people = board_change.parse(payload)
    assert sections is not None and "tasks" in sections
    assert people is None  # who may see a task is the tasks section's own rule, for every board
