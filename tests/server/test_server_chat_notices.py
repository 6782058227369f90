"""The phone page's "最近通知" lists what reached a person in chat only (a DM, a room post that
names them) beside their pushes, newest first, and a message that came with a push once."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import FastAPI
from server_env import USER, clock_fixture, fake_fixture, server_fixture, settings_fixture  # noqa: F401 - shared fixtures
from test_server_push_api import sign_in

from notifications import reach
from records.clock import FrozenClock


async def _listed(app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock) -> list[tuple[str, str, str]]:
    await sign_in(app, client, clock)
    notices = (await client.get("/api/push/notices")).json()["notices"]
    return [(n["title"], n["body"], n["status"]) for n in notices]


async def test_a_dm_and_a_post_naming_the_person_are_listed_without_any_push(
    server: tuple[FastAPI, httpx.AsyncClient], clock: FrozenClock
) -> None:
    app, client = server
    async with app.state.db.transaction() as session:
        await reach.dm(
            session, USER, "⏰ 督办 T1「报送防汛物资清单」将于明天 18:00 到期\n当前进度 40%。", ref="task:T1"
        )
    clock.advance(timedelta(minutes=1))
    async with app.state.db.transaction() as session:
        await reach.post(session, "!duty:office.test", "📝 交接班 H1：泵站已检修", mention=[USER])
        await reach.post(session, "!duty:office.test", "🕘 今日值班表已更新")  # names nobody: no one's notice
    listed = await _listed(app, client, clock)
    assert [(title, status) for title, _, status in listed] == [
        ("📝 交接班 H1：泵站已检修", "chat"),
        ("⏰ 督办 T1「报送防汛物资清单」将于明天 18:00 到期", "chat"),
    ]
    assert listed[1][1] == "当前进度 40%。"


async def test_a_dm_that_comes_with_a_push_is_listed_once_whichever_is_written_first(
    server: tuple[FastAPI, httpx.AsyncClient], clock: FrozenClock
) -> None:
    app, client = server
    async with app.state.db.transaction() as session:  # an order: the DM, then its push
        await reach.dm(session, USER, "📢 指令 O1：到城东泵站集合", urgent=True)
        await reach.push(session, [USER], kind="emergency", title="新指令 O1", body="到城东泵站集合", clock=clock)
    clock.advance(timedelta(minutes=1))
    async with app.state.db.transaction() as session:  # the push first, then the DM
        await reach.push(session, [USER], kind="emergency", title="🚨 紧急通知 O2", body="台风预警", clock=clock)
        await reach.dm(session, USER, "🚨 紧急通知 O2：台风预警", urgent=True)
    assert [title for title, _, _ in await _listed(app, client, clock)] == ["🚨 紧急通知 O2", "新指令 O1"]
