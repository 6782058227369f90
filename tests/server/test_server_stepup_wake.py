"""A decision confirmed on /confirm reaches open boards at once, not at the minute's refresh:
after the commit the server wakes this copy's boards and, over Redis, the other copies' and
the bot's relay, naming what changed, as a board action does. The real server (ASGI), the
application's wiring and a real Redis, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "notifications"))
from push_env import PUBLIC_URL, T0

from records.clock import FrozenClock
from records.db import Database
from server.app import create_app
from server.board import BoardChange
from tests.server.test_server_stepup_totp import ROOM, SIGNER, TEMPLATES, _ask, _decision, _enrol, _settings, _sign_in
from tests.support.dispatch_chat import DispatchChat
from zhiban.board_wiring import WiredBoard
from zhiban.stepup_wiring import step_extra
from zhiban.wakeup import OUTBOX, WakeBus


async def test_a_sign_off_confirmed_on_the_phone_wakes_every_board(
    tmp_path: Path, database_url: str, redis_url: str
) -> None:
    clock = FrozenClock(T0)
    base = _settings(tmp_path, database_url)
    settings = base.model_copy(update={"redis": base.redis.model_copy(update={"url": redis_url, "queue": "wake-t"})})
    db = Database(settings.database_url)
    chat = DispatchChat(db, clock, room=ROOM, approvals={"templates": TEMPLATES}, server={"public_url": PUBLIC_URL})
    here = WiredBoard.from_settings(settings, db, clock, redis_url)
    app = create_app(settings, extra={"clock": clock, "board_source": here} | step_extra(settings))
    # Another copy of the server, and the bot's relay, listening as they do.
    elsewhere = WiredBoard.from_settings(settings, db, clock, redis_url)
    changes: list[BoardChange] = []
    relay: list[str] = []
    board_heard, relay_heard = asyncio.Event(), asyncio.Event()

    def on_change(change: BoardChange) -> None:
        changes.append(change)
        board_heard.set()

    def on_outbox(payload: str) -> None:
        relay.append(payload)
        relay_heard.set()

    relay_bus = WakeBus(redis_url, "wake-t")
    listening = [
        asyncio.create_task(elsewhere.watch(on_change)),
        asyncio.create_task(relay_bus.listen_with_payload({OUTBOX: on_outbox})),
    ]
    try:
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC_URL) as client:
                code, token, _ = await _ask(chat)
                await _sign_in(chat, client, SIGNER)
                authenticator = await _enrol(client, clock)
                await asyncio.sleep(0.5)  # the listeners have subscribed
                changes.clear()
                relay.clear()
                board_heard.clear()
                relay_heard.clear()
                hub = app.state.board
                before = hub.version
                clock.advance(timedelta(seconds=30))
                done = await client.post(f"/confirm/{token}/totp", json={"code": authenticator.at(clock.now())})
                assert done.status_code == 200, done.text
                assert await _decision(chat, code) == ("approved", "approve")
                await asyncio.wait_for(asyncio.gather(board_heard.wait(), relay_heard.wait()), 30)
                assert any(c.sections is not None and "approvals" in c.sections for c in changes), changes
                await asyncio.sleep(0.2)  # this copy's wake-ups are coalesced for a moment
                assert hub.version > before, "this copy's open boards read again at once"
    finally:
        for task in listening:
            task.cancel()
        await asyncio.gather(*listening, return_exceptions=True)
        await elsewhere.close()
        await relay_bus.close()
        await db.dispose()
