"""The general feature's replies read as the office writes (docs/messages.md), through the real
dispatcher: times as 今天 12月3日（周四）14:30, not 2026-12-03 14:30."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from records.clock import FrozenClock
from records.db import Database
from tests.support.dispatch_chat import DispatchChat

ALICE = "@alice:office.example"
ROOM = "!duty:office.example"


async def test_the_time_zone_reply_shows_the_time_as_people_write_it(db: Database) -> None:
    chat = DispatchChat(db, FrozenClock(datetime(2026, 5, 4, 1, 0, tzinfo=UTC)), room=ROOM)
    body = await chat.reply_to(ALICE, "!时区 Asia/Shanghai")
    assert body.startswith("时区已设为 Asia/Shanghai，当前时间 今天 ")
    assert re.search(r"\d{1,2}月\d{1,2}日（周.）\d{2}:\d{2}。$", body), body
    assert not re.search(r"\d{4}-\d{2}-\d{2}", body), "no machine dates in Chinese text"
