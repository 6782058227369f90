"""Through a real Synapse: a roster file's phone numbers show beside the people on duty, and an
approver who shares no room with the bot is named by the display name of their profile."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.conftest import MakeBot
from tests.support.fixtures import MakeUser

pytestmark = pytest.mark.e2e


async def test_an_uploaded_roster_shows_whom_to_call(make_bot: MakeBot, make_user: MakeUser) -> None:
    leader = await make_user("leader")
    officer = await make_user("officer")
    bot = await make_bot(e2ee=False, roles={"duty_leader": [leader.user_id]})
    room = await leader.create_room(invite=[bot.user_id, officer.user_id])
    await leader.wait_for_member(room, bot.user_id)
    await leader.wait_for_member(room, officer.user_id)

    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    officer_local = officer.user_id[1:].split(":", 1)[0]
    csv = (
        "date,start,end,leader,officers,电话\n"
        f"{today},00:00,00:00,{leader.user_id},{officer.user_id},13800000000；{officer_local}=13900000000\n"
    ).encode()
    mxc, _ = await leader.upload(csv, mimetype="text/csv", filename="值班表.csv", encrypt=False)
    mark = leader.mark()
    content = {
        "msgtype": "m.file",
        "body": "值班表.csv",
        "url": mxc,
        "info": {"mimetype": "text/csv", "size": len(csv)},
    }
    await leader.send(room, "m.room.message", content)
    await leader.wait_for_message(room, sender=bot.user_id, contains="已导入 1 个班次", since=mark)

    await officer.send_text(room, "!值班")
    shown = await leader.wait_for_message(room, sender=bot.user_id, contains="当前值班", since=mark)
    body = shown.body or ""
    assert "（138 0000 0000）" in body and f"{officer_local}（139 0000 0000）" in body, body
    assert f'<a href="https://matrix.to/#/{officer.user_id}">' in shown.content["formatted_body"]
    assert officer.user_id not in body


async def test_an_approver_in_no_shared_room_is_named_by_their_profile(make_bot: MakeBot, make_user: MakeUser) -> None:
    alice = await make_user("alice")
    zhao = await make_user("zhao")  # shares no room with the bot: only the profile tells his name
    await zhao.client.set_displayname("赵处长")
    bot = await make_bot(e2ee=False)
    room = await alice.create_room(invite=[bot.user_id])
    await alice.wait_for_member(room, bot.user_id)

    mark = alice.mark()
    await alice.send_text(room, f"!审批 发起 关于防汛物资采购的请示 {zhao.user_id}")
    card = await alice.wait_for_message(room, sender=bot.user_id, contains="📝 审批 A", since=mark)
    assert "赵处长" in (card.body or "") and zhao.user_id not in (card.body or ""), card.body
    assert f'<a href="https://matrix.to/#/{zhao.user_id}">赵处长</a>' in card.content["formatted_body"]
