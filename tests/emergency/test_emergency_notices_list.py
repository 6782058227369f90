"""Someone who got an alert and two orders in chat (no phone subscribed) finds all three on the
phone page's "最近通知", newest first, each once (notifications.subscriptions.recent_notices,
which the page and the board read)."""

from __future__ import annotations

from datetime import timedelta

from emergency.models import Incident
from notifications.subscriptions import recent_notices
from records.clock import FrozenClock
from records.db import Database
from tests.emergency.test_emergency_chat import INCIDENT_ROOM, LEADER, OFFICER, STAFF_A, T0, Chat, _open_incident


async def test_an_alert_and_two_orders_are_listed_newest_first(db: Database) -> None:
    clock = FrozenClock(T0)
    chat = Chat(db, clock)
    await _open_incident(db, clock)
    await chat.say(LEADER, "!警报 台风预警，全员待命")
    clock.advance(timedelta(minutes=1))
    await chat.say(LEADER, f"!指令 {STAFF_A} 到城东泵站集合", INCIDENT_ROOM)
    clock.advance(timedelta(minutes=1))
    await chat.say(LEADER, f"!指令 {STAFF_A} 上报积水深度", INCIDENT_ROOM)
    async with db.reading() as session:
        listed = await recent_notices(session, STAFF_A, "zh")
    assert [(n.title, n.status) for n in listed] == [
        ("新指令 O3", "chat"),
        ("新指令 O2", "chat"),
        ("🚨 紧急通知 O1", "chat"),
    ], [(n.title, n.body) for n in listed]


async def test_the_incident_alert_dm_is_listed_for_whoever_it_reached(db: Database) -> None:
    clock = FrozenClock(T0)
    chat = Chat(db, clock)
    await chat.say(LEADER, "!应急 启动 Ⅱ 自然灾害 城东内涝")
    async with db.reading() as session:
        assert await session.get(Incident, 1) is not None
        listed = await recent_notices(session, OFFICER, "zh")
    assert [n.title for n in listed] == ["🚨 Ⅱ级应急 E1"], [(n.title, n.body) for n in listed]
