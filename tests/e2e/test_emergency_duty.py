"""Duty roster and closing through a real Synapse: !duty set, hand-over acknowledged with ✅, close."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import MakeBot
from tests.support.fixtures import MakeUser

pytestmark = pytest.mark.e2e


async def test_roster_handover_and_close(make_bot: MakeBot, make_user: MakeUser) -> None:
    leader = await make_user("leader")
    officer = await make_user("officer")
    nextone = await make_user("next")
    # Closing without the phone's confirmation here (that is tests/e2e/test_emergency_close_stepup_e2e.py).
    bot = await make_bot(e2ee=False, roles={"duty_leader": [leader.user_id]}, stepup={"incident_close": False})
    room = await leader.create_room(invite=[bot.user_id, officer.user_id, nextone.user_id])
    await leader.wait_for_member(room, bot.user_id)
    await officer.wait_for_room(room)
    await nextone.wait_for_room(room)

    mark = leader.mark()
    await leader.send_text(room, f"!值班 设置 今天0:00 至 23:59 带班 {leader.user_id} 值班员 {officer.user_id}")
    await leader.wait_for_message(room, sender=bot.user_id, contains="已排班", since=mark)
    await leader.send_text(room, f"!duty set tomorrow leader {leader.user_id} officers {nextone.user_id}")
    await leader.wait_for_message(room, sender=bot.user_id, contains="值班员", since=mark)
    await officer.send_text(room, "!值班")
    now = await leader.wait_for_message(room, sender=bot.user_id, contains="当前值班", since=mark)
    # The roster names people as pills (by name in the body, never by Matrix ID).
    for person in (officer, nextone):
        assert f'<a href="https://matrix.to/#/{person.user_id}">' in now.content["formatted_body"]
        assert person.user_id not in (now.body or "")

    # An officer who is not a duty leader may not set the roster.
    await officer.send_text(room, f"!值班 设置 明天 带班 {officer.user_id}")
    await leader.wait_for_message(room, sender=bot.user_id, contains="只有带班领导", since=mark)

    await officer.send_text(room, "!交接班 城东泵站待修，已报水务")
    note = await leader.wait_for_message(room, sender=bot.user_id, contains="交接班 H1", since=mark)
    assert f'<a href="https://matrix.to/#/{nextone.user_id}">' in note.content["formatted_body"]
    await nextone.react(room, note.event_id, "✅")
    await leader.wait_for_message(room, sender=bot.user_id, contains="已确认接班", since=mark)

    # An incident declared and closed: the final report carries the timeline; a bystander may not
    # close it, and (not on shift, not in the incident) is answered as if E1 did not exist.
    await officer.send_text(room, "!应急 启动 3 事故灾难 和平路燃气泄漏")
    await leader.wait_for_message(room, sender=bot.user_id, contains="已启动", since=mark)
    await nextone.send_text(room, "!应急 关闭 E1")
    await leader.wait_for_message(room, sender=bot.user_id, contains="没有事件 E1", since=mark)
    await leader.send_text(room, "!应急 关闭 E1")
    await leader.wait_for_message(room, sender=bot.user_id, contains="已关闭", since=mark)
    final = await leader.wait_for(
        lambda e: e.sender == bot.user_id and "终结报告" in (e.body or "") and e.room_id != room, since=0
    )
    assert "时间线" in (final.body or "") and "燃气泄漏" in (final.body or "")
