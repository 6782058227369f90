"""An order through a real Synapse, with the bot restarted in the middle of the incident.

One recipient acknowledges; the other stays silent, is nagged by DM and then escalated to the
commander. The nag timers fire while the bot is down (as a worker would), and the report
clock runs out after a second restart: every nag, escalation and late-report alert arrives
exactly once.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from emergency.models import Incident
from records.clock import FrozenClock
from records.db import Database
from tests.e2e.conftest import BotHandle, MakeBot
from tests.support.chat_user import ChatUser, Received
from tests.support.fixtures import MakeUser

pytestmark = pytest.mark.e2e


async def _incident_room(bot: BotHandle) -> str:
    db = Database(bot.settings.database_url)
    try:
        async with db.transaction() as session:
            incident = await session.scalar(select(Incident))
            assert incident is not None and incident.room_id
            return incident.room_id
    finally:
        await db.dispose()


def _from_bot(
    user: ChatUser, bot: BotHandle, text: str, *, room: str | None = None, not_room: str | None = None
) -> list[Received]:
    """Bot messages containing `text` that `user` received (edits excluded), in or outside a room."""
    return [
        e
        for e in user.received
        if e.sender == bot.user_id
        and e.type == "m.room.message"
        and text in (e.body or "")
        and "m.new_content" not in e.content
        and (room is None or e.room_id == room)
        and (not_room is None or e.room_id != not_room)
    ]


async def test_order_nag_escalation_and_late_report_survive_restarts(make_bot: MakeBot, make_user: MakeUser) -> None:
    officer = await make_user("officer")
    leader = await make_user("leader")  # the duty leader: the incident's commander
    fire = await make_user("fire")
    police = await make_user("police")
    clock = FrozenClock(datetime.now(UTC))
    bot = await make_bot(
        stepup={"incident_declare": False},  # grade Ⅱ without the phone's confirmation here
        clock=clock,
        e2ee=False,
        roles={"duty_leader": [leader.user_id], "duty_officer": [officer.user_id]},
        emergency={"responders": [{"classes": ["自然灾害"], "users": [fire.user_id, police.user_id]}]},
    )
    duty_room = await officer.create_room(invite=[bot.user_id])
    await officer.wait_for_member(duty_room, bot.user_id)
    mark = officer.mark()
    # Grade Ⅱ: acknowledge within 10 minutes, the 首报 within 30 (reminder at 20).
    await officer.send_text(duty_room, "!应急 启动 Ⅱ 自然灾害 城东内涝")
    await officer.wait_for_message(duty_room, sender=bot.user_id, contains="已启动", since=mark)
    room = await _incident_room(bot)
    for person in (officer, leader, fire, police):
        await person.wait_for_room(room)

    # An order to two responders; the fire brigade acknowledges with ✅ on its DM.
    mark = officer.mark()
    await officer.send_text(room, f"!指令 {fire.user_id} {police.user_id} 到城东泵站集合")
    await officer.wait_for_message(room, sender=bot.user_id, contains="确认 0/2", since=mark)
    order_dm = await fire.wait_for(
        lambda e: e.sender == bot.user_id and "指令 O1" in (e.body or "") and e.room_id != room, since=0
    )
    await police.wait_for(
        lambda e: e.sender == bot.user_id and "指令 O1" in (e.body or "") and e.room_id != room, since=0
    )
    await fire.react(order_dm.room_id, order_dm.event_id, "✅")
    await officer.wait_for_message(room, sender=bot.user_id, contains="确认 1/2", since=mark)

    # The bot goes down. Ten minutes pass; the worker fires the police's first nag meanwhile.
    await bot.stop()
    clock.advance(timedelta(minutes=10))
    assert await bot.pump_timers() == 1  # only the police's nag: the fire brigade's was cancelled
    await bot.start()
    await police.wait_for(lambda e: e.sender == bot.user_id and "已下达 10 分钟" in (e.body or ""), since=0)

    # Ten more minutes: the second nag tells the commander (and the 首报 reminder is due).
    clock.advance(timedelta(minutes=10))
    mark = officer.mark()
    assert await bot.pump_timers() == 2
    await police.wait_for(lambda e: e.sender == bot.user_id and "已下达 20 分钟" in (e.body or ""), since=0)
    escalation = await leader.wait_for(
        lambda e: e.sender == bot.user_id and "未确认指令 O1" in (e.body or "") and e.room_id != room, since=0
    )
    assert f'<a href="https://matrix.to/#/{police.user_id}">' in escalation.content["formatted_body"]
    await officer.wait_for_message(room, sender=bot.user_id, contains="已告知指挥长", since=mark)

    # Restarted again; the 首报 deadline passes (and a third nag is due): the duty leader hears of
    # the late report once.
    await bot.stop()
    await bot.start()
    clock.advance(timedelta(minutes=11))
    assert await bot.pump_timers() == 2
    await leader.wait_for(lambda e: e.sender == bot.user_id and "迟报" in (e.body or "") and e.room_id != room, since=0)
    await police.wait_for(lambda e: e.sender == bot.user_id and "已下达 31 分钟" in (e.body or ""), since=0)

    # A last restart replays nothing; let any (wrong) duplicate arrive before counting.
    await bot.stop()
    await bot.start()
    probe = officer.mark()
    await officer.send_text(room, "!ping")
    await officer.wait_for_message(room, sender=bot.user_id, since=probe)
    await asyncio.sleep(1.0)

    for minutes in (10, 20, 31):
        assert len(_from_bot(police, bot, f"已下达 {minutes} 分钟", not_room=room)) == 1
    assert _from_bot(fire, bot, "尚未确认") == []  # who acknowledged is not nagged
    assert len(_from_bot(leader, bot, "未确认指令 O1", not_room=room)) == 1
    assert len(_from_bot(leader, bot, "迟报", not_room=room)) == 1
    assert len(_from_bot(officer, bot, "已告知指挥长", room=room)) == 1
    assert len(_from_bot(officer, bot, "超时", room=room)) == 1
    assert len(_from_bot(fire, bot, "指令 O1", not_room=room)) == 1  # the order DM itself, once
