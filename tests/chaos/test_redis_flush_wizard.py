"""Redis is flushed while an officer is halfway through a 首报, asked field by field.

The wizard's step used to live in Redis only: after a FLUSHDB the officer's next answer got
no reply at all and what they had typed so far was gone. The step now lives in the database,
written with each turn, so the wizard goes on from where the officer was.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import redis.asyncio as aioredis

from records.clock import FrozenClock
from tests.e2e.conftest import MakeBot
from tests.support.due import incident_room
from tests.support.fixtures import MakeUser
from tests.support.processes import History, body

pytestmark = pytest.mark.e2e


async def test_a_first_report_goes_on_after_redis_is_flushed(
    make_bot: MakeBot, make_user: MakeUser, redis_url: str
) -> None:
    officer = await make_user("officer")
    leader = await make_user("leader")
    bot = await make_bot(
        stepup={"incident_declare": False},  # grade Ⅱ without the phone's confirmation here
        clock=FrozenClock(datetime.now(UTC)),
        e2ee=False,
        roles={"duty_leader": [leader.user_id], "duty_officer": [officer.user_id]},
    )
    duty_room = await officer.create_room(invite=[bot.user_id])
    await officer.wait_for_member(duty_room, bot.user_id)
    mark = officer.mark()
    await officer.send_text(duty_room, "!应急 启动 Ⅱ 自然灾害 城东内涝")
    await officer.wait_for_message(duty_room, sender=bot.user_id, contains="已启动", since=mark)
    room = await incident_room(bot.settings.database_url)
    await officer.wait_for_room(room)

    # The officer starts the 首报 and answers two questions.
    mark = officer.mark()
    await officer.send_text(room, "!报告 首报 地点: 城东区和平路 影响: 道路中断")
    await officer.wait_for_message(room, sender=bot.user_id, contains="【事发时间】", since=mark)
    step = officer.mark()
    await officer.send_text(room, "今天14:20")
    await officer.wait_for_message(room, sender=bot.user_id, contains="【事件类别和性质】", since=step)

    # Redis loses everything (a flush, a restart without persistence, a failover to an empty one).
    redis = aioredis.Redis.from_url(redis_url)
    try:
        await redis.flushdb()
    finally:
        await redis.aclose()

    # The next answer is taken as the answer to the question that was asked.
    step = officer.mark()
    await officer.send_text(room, "暴雨内涝")
    await officer.wait_for_message(room, sender=bot.user_id, contains="【人员伤亡和财产损失】", since=step)
    for answer, next_question in (
        ("无人员伤亡", "【已采取的措施】"),
        ("封闭道路", "【需求和请求】"),
        ("跳过", "【报告人及联系方式】"),
    ):
        step = officer.mark()
        await officer.send_text(room, answer)
        await officer.wait_for_message(room, sender=bot.user_id, contains=next_question, since=step)
    step = officer.mark()
    await officer.send_text(room, "李四 13800000000")
    await officer.wait_for_message(room, sender=bot.user_id, contains="已报送首报", since=step)

    # Filed once, and nothing typed before the flush is missing, as the homeserver has it.
    async with History.login(officer.hs.base_url, officer.user_id, officer.password) as history:
        filed = [body(m) for m in await history.messages(room) if "已报送首报" in body(m)]
    assert len(filed) == 1, filed
    for given in ("城东区和平路", "道路中断", "14:20", "暴雨内涝", "无人员伤亡", "封闭道路", "李四 13800000000"):
        assert given in filed[0], (given, filed[0])
