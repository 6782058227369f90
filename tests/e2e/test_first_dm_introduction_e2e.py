"""The first DM anyone gets from the bot, through a real Synapse: three lines on what Zhiban does
and how to get help come just before it, once per person, and not again after a restart."""

from __future__ import annotations

import asyncio

import pytest

from tests.e2e.conftest import MakeBot
from tests.support.chat_user import ChatUser, Received
from tests.support.fixtures import MakeUser

pytestmark = pytest.mark.e2e


def _dms_from_bot(user: ChatUser, bot_id: str, room: str) -> list[Received]:
    return [
        e
        for e in user.received
        if e.sender == bot_id and e.type == "m.room.message" and e.room_id != room and "m.new_content" not in e.content
    ]


async def test_the_first_dm_comes_after_an_introduction_once_ever(make_bot: MakeBot, make_user: MakeUser) -> None:
    leader = await make_user("leader")
    newcomer = await make_user("newcomer")
    bot = await make_bot(e2ee=False, roles={"duty_leader": [leader.user_id]})
    room = await leader.create_room(invite=[bot.user_id, newcomer.user_id])
    await leader.wait_for_member(room, bot.user_id)
    await newcomer.wait_for_room(room)
    mark = leader.mark()
    await leader.send_text(room, f"!值班 设置 今天0:00 至 23:59 带班 {leader.user_id}")
    await leader.wait_for_message(room, sender=bot.user_id, contains="已排班", since=mark)
    await leader.send_text(room, f"!值班 设置 明天 带班 {leader.user_id} 值班员 {newcomer.user_id}")
    await leader.wait_for_message(room, sender=bot.user_id, contains="值班员", since=mark)

    # The hand-over is the newcomer's first DM from the bot: the introduction comes just before.
    await leader.send_text(room, "!交接班 城东泵站待修")
    await newcomer.wait_for(lambda e: e.sender == bot.user_id and "交接班 H1" in (e.body or "") and e.room_id != room)
    first, handover = _dms_from_bot(newcomer, bot.user_id, room)[:2]
    lines = (first.body or "").splitlines()
    assert len(lines) == 3 and lines[0].startswith("您好，我是值班助手") and "!帮助" in lines[2], lines
    assert "交接班 H1" in (handover.body or "") and handover.room_id == first.room_id

    # A second DM, and one after a restart: no second introduction.
    await leader.send_text(room, "!交接班 东区路灯已报修")
    await newcomer.wait_for(lambda e: e.sender == bot.user_id and "交接班 H2" in (e.body or ""), since=0)
    await bot.stop()
    await bot.start()
    await leader.send_text(room, "!交接班 第三次交接")
    await newcomer.wait_for(lambda e: e.sender == bot.user_id and "交接班 H3" in (e.body or ""), since=0)
    await asyncio.sleep(1.0)  # a wrong second introduction would have arrived by now
    bodies = [e.body or "" for e in _dms_from_bot(newcomer, bot.user_id, room)]
    assert sum(body.startswith("您好，我是值班助手") for body in bodies) == 1, bodies
    assert len(bodies) == 4, bodies
