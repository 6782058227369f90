"""A roster CSV posted in the duty room is downloaded under a byte cap, whatever size it declares.

A real media server (aiohttp) serves the files; the bot's real client downloads them through the
real dispatcher. The old handler read a file of any size into memory (and into the CSV parser)
before looking at it; now a file over the cap is refused with a bilingual answer, the download
stops just past the cap, and nothing is imported.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot import BotClient
from bot.types import Media, Message
from emergency.handlers.duty import ROSTER_MAX_BYTES
from emergency.models import Shift
from records.clock import FrozenClock
from records.config import MatrixSettings, Settings
from records.db import Database
from records.models import AuditEntry, OutboxMessage
from tests.emergency.test_emergency_chat import LEADER, ROOM, T0
from tests.support.media_server import HUGE, LyingMediaServer, bot_client
from zhiban.app import build_dispatcher

ROSTER = b"date,start,end,leader,officers,note\n2026-11-26,08:30,08:30,@zhang:localhost,@li:localhost,\n"
# A roster row repeated: a well-formed file, only far too long.
ROW = b"2026-11-27,08:30,17:30,@zhao:localhost,@qian:localhost,\xe7\x99\xbd\xe7\x8f\xad\n"


@pytest.fixture
async def media_server() -> AsyncIterator[LyingMediaServer]:
    """/roster is a small roster; /huge (chunked, no length) and /announced (a large length) are rows without end."""
    async with LyingMediaServer("text/csv", filler=ROW, small={"roster": ROSTER}).running() as media:
        yield media


@pytest.fixture
async def client(media_server: LyingMediaServer) -> AsyncIterator[BotClient]:
    async with bot_client(media_server.url) as bot:
        yield bot


async def _upload(db: Database, client: BotClient, media_id: str, declared: int | None, lang: str = "zh") -> str:
    """A duty leader posts `media_id` as roster.csv; returns the bot's answer."""
    settings = Settings(
        data_dir=Path(tempfile.mkdtemp()),
        matrix=MatrixSettings(user_id="@zhiban:localhost"),
        roles={"duty_leader": [LEADER]},
        default_lang=lang,
    )
    dispatcher = build_dispatcher(settings, db, clock=FrozenClock(T0), extra_context={"client": client})
    upload = Message(
        room_id=ROOM, event_id=f"$csv-{media_id}-{declared}-{lang}", sender=LEADER, timestamp_ms=1, source={},
        body="roster.csv", msgtype="m.file",
        media=Media(url=f"mxc://localhost/{media_id}", mimetype="text/csv", size=declared, duration_ms=None),
    )  # fmt: skip
    await dispatcher.feed(upload)
    async with db.reading() as session:
        row = await session.scalar(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(1))
    assert row is not None
    return str(row.content.get("body"))


async def _imported(db: Database) -> tuple[int, int]:
    async with db.reading() as session:
        shifts = await session.scalar(select(func.count()).select_from(Shift))
        audit = await session.scalar(select(func.count()).select_from(AuditEntry))
    return int(shifts or 0), int(audit or 0)


@pytest.mark.parametrize(("media_id", "declared"), [("huge", 4000), ("huge", None), ("announced", 4000)])
async def test_a_roster_file_over_the_cap_is_refused_while_it_downloads(
    db: Database,
    client: BotClient,
    media_server: LyingMediaServer,
    media_id: str,
    declared: int | None,
) -> None:
    media = media_server
    answer = await _upload(db, client, media_id, declared)

    assert "值班表文件过大" in answer and "上限为 1,024 KB" in answer, answer
    assert await _imported(db) == (0, 0)
    # The download stopped near the cap: the 24 MB were never all written.
    assert media_id not in media.finished
    assert 0 < media.sent[media_id] < HUGE


async def test_a_declared_size_over_the_cap_is_refused_without_downloading(
    db: Database, client: BotClient, media_server: LyingMediaServer
) -> None:
    media = media_server
    answer = await _upload(db, client, "huge", ROSTER_MAX_BYTES + 1, lang="en")

    assert "too large (1,025 KB; the limit is 1,024 KB)" in answer, answer
    assert "huge" not in media.sent
    assert await _imported(db) == (0, 0)


async def test_a_roster_under_the_cap_is_imported(db: Database, client: BotClient) -> None:
    answer = await _upload(db, client, "roster", len(ROSTER))

    assert "已导入 1 个班次" in answer, answer
    assert (await _imported(db))[0] == 1
