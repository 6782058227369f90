"""An incident through a real Synapse: declared, an order acknowledged, a late 首报 filled step by step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from emergency.models import Incident
from records.clock import FrozenClock
from records.db import Database
from tests.e2e.conftest import MakeBot
from tests.support.fixtures import MakeUser

pytestmark = pytest.mark.e2e


async def test_declare_order_ack_and_a_late_first_report(make_bot: MakeBot, make_user: MakeUser) -> None:
    officer = await make_user("officer")
    leader = await make_user("leader")
    fire = await make_user("fire")
    bystander = await make_user("bystander")
    clock = FrozenClock(datetime.now(UTC))
    bot = await make_bot(
        stepup={"incident_declare": False},  # grade Ⅱ without the phone's confirmation here
        clock=clock,
        e2ee=False,
        roles={"duty_leader": [leader.user_id], "duty_officer": [officer.user_id]},
        emergency={"responders": [{"classes": ["自然灾害"], "grades": [1, 2], "users": [fire.user_id]}]},
    )
    duty_room = await officer.create_room(invite=[bot.user_id])
    await officer.wait_for_member(duty_room, bot.user_id)

    # Bad input first: an unknown grade gets the usage back.
    mark = officer.mark()
    await officer.send_text(duty_room, "!应急 启动 9 城东内涝")
    await officer.wait_for_message(duty_room, sender=bot.user_id, contains="用法", since=mark)

    await officer.send_text(duty_room, "!应急 启动 Ⅱ 自然灾害 城东内涝")
    await officer.wait_for_message(duty_room, sender=bot.user_id, contains="已启动", since=mark)
    db = Database(bot.settings.database_url)
    try:
        async with db.transaction() as session:
            incident = await session.scalar(select(Incident))
            assert incident is not None and incident.room_id
            room = incident.room_id
    finally:
        await db.dispose()

    # The responder of the class and grade, and the duty leader, are invited (and auto-join); the
    # bystander is not.
    await fire.wait_for_room(room)
    await leader.wait_for_room(room)
    assert room not in bystander.client.rooms
    card = await fire.wait_for_message(room, sender=bot.user_id, contains="E1", since=0)
    pinned = await fire.client.room_get_state_event(room, "m.room.pinned_events")
    assert card.event_id in pinned.content["pinned"]
    await officer.wait_for_room(room)

    # An order to two people; the responder acknowledges with ✅ and the card is edited.
    mark = officer.mark()
    await officer.send_text(room, f"!指令 {fire.user_id} {leader.user_id} 到城东泵站集合")
    order_card = await fire.wait_for_message(room, sender=bot.user_id, contains="确认 0/2", since=0)
    await fire.react(room, order_card.event_id, "✅")
    edited = await officer.wait_for_message(room, sender=bot.user_id, contains="确认 1/2", since=mark)
    assert edited.content["m.relates_to"]["rel_type"] == "m.replace"

    # The 首报 deadline (30 minutes for grade Ⅱ) passes: the room hears it, the duty leader is told.
    clock.advance(timedelta(minutes=31))
    mark = officer.mark()
    await bot.pump_timers()
    await officer.wait_for_message(room, sender=bot.user_id, contains="迟报", since=mark)
    leader_mark = 0
    await leader.wait_for(
        lambda e: e.sender == bot.user_id and "迟报" in (e.body or "") and e.room_id != room, since=leader_mark
    )

    # The 首报, asked field by field; it is recorded as late.
    await officer.send_text(room, "!报告 首报 地点: 城东区和平路 影响: 道路中断")
    await officer.wait_for_message(room, sender=bot.user_id, contains="事发时间", since=mark)
    answers = ["今天14:20", "暴雨内涝", "无人员伤亡", "跳过", "跳过", "李四 13800000000"]
    for answer in answers:
        step = officer.mark()
        await officer.send_text(room, answer)
        await officer.wait_for(lambda e: e.sender == bot.user_id and e.room_id == room, since=step)
    filed = await officer.wait_for_message(room, sender=bot.user_id, contains="已报送首报", since=mark)
    assert "【迟报】" in (filed.body or "") and "城东区和平路" in (filed.body or "") and "李四" in (filed.body or "")

    # Bad input: a report outside an incident room.
    mark = officer.mark()
    await officer.send_text(duty_room, "!报告 续报")
    await officer.wait_for_message(duty_room, sender=bot.user_id, contains="事件群", since=mark)
