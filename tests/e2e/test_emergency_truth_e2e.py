"""What duty staff see is true, through a real Synapse.

A declaration without a class says who was not invited, and the class given later brings them
(with an alert DM that links the room and is acknowledged with ✅); an order's DM names its
incident; the responder's read receipt on it fills the "read" column of the receipt matrix.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from emergency.models import Incident
from records.db import Database
from tests.e2e.conftest import MakeBot
from tests.support.fixtures import MakeUser

pytestmark = pytest.mark.e2e


async def test_class_given_later_alert_ack_and_a_read_receipt(make_bot: MakeBot, make_user: MakeUser) -> None:
    officer = await make_user("officer")
    leader = await make_user("leader")
    fire = await make_user("fire")
    bot = await make_bot(
        stepup={"incident_declare": False},  # grade Ⅱ without the phone's confirmation here
        e2ee=False,
        roles={"duty_leader": [leader.user_id], "duty_officer": [officer.user_id]},
        emergency={"responders": [{"classes": ["自然灾害"], "grades": [1, 2], "users": [fire.user_id]}]},
    )
    duty_room = await officer.create_room(invite=[bot.user_id])
    await officer.wait_for_member(duty_room, bot.user_id)

    # Declared at once without a class: the reply says the class-bound responders are not in.
    mark = officer.mark()
    await officer.send_text(duty_room, "!应急 启动 Ⅱ 城区内涝")
    declared = await officer.wait_for_message(duty_room, sender=bot.user_id, contains="已启动", since=mark)
    assert "未指定类别" in (declared.body or "") and "!应急 类别 E1 自然灾害" in (declared.body or "")
    db = Database(bot.settings.database_url)
    try:
        async with db.transaction() as session:
            incident = await session.scalar(select(Incident))
            assert incident is not None and incident.room_id
            room = incident.room_id
    finally:
        await db.dispose()
    await leader.wait_for_room(room)
    assert room not in fire.client.rooms

    # The class, given later, invites the responder, whose alert DM links the room.
    fire_mark = fire.mark()
    await officer.send_text(duty_room, "!应急 类别 E1 自然灾害")
    await officer.wait_for_message(duty_room, sender=bot.user_id, contains=fire.user_id, since=mark)
    await fire.wait_for_room(room)
    alert = await fire.wait_for(
        lambda e: e.sender == bot.user_id and e.room_id != room and "启动人" in (e.body or ""), since=fire_mark
    )
    assert f"https://matrix.to/#/{room}" in (alert.body or "")
    # The declarer as a pill (by name in the body, never the Matrix ID).
    assert f'<a href="https://matrix.to/#/{officer.user_id}">' in alert.content["formatted_body"]
    assert officer.user_id not in (alert.body or "")
    dm_room = alert.room_id

    # ✅ on the alert DM acknowledges the declaration; the commander sees it.
    await fire.react(dm_room, alert.event_id, "✅")
    await fire.wait_for_message(dm_room, sender=bot.user_id, contains="已确认收到 E1 启动通知", since=fire_mark)
    mark = officer.mark()
    await officer.send_text(duty_room, "!应急 查看 E1")
    shown = await officer.wait_for_message(duty_room, sender=bot.user_id, contains="启动通知确认", since=mark)
    assert "启动通知确认 1/2" in (shown.body or ""), shown.body

    # An order: its DM names the incident; the responder reads it and the matrix says so.
    await officer.wait_for_room(room)
    fire_mark = fire.mark()
    mark = officer.mark()
    await officer.send_text(room, f"!指令 {fire.user_id} 到城东泵站集合")
    await officer.wait_for_message(room, sender=bot.user_id, contains="确认 0/1", since=mark)
    order_dm = await fire.wait_for_message(dm_room, sender=bot.user_id, contains="指令 O1", since=fire_mark)
    fire_name = fire.user_id[1:].split(":", 1)[0]  # shown by name: the homeserver's default one
    assert "【E1 城区内涝】" in (order_dm.body or "") and "matrix.to" in (order_dm.body or ""), order_dm.body
    await fire.client.room_read_markers(dm_room, fully_read_event=order_dm.event_id, read_event=order_dm.event_id)
    read = await officer.wait_for_message(room, sender=bot.user_id, contains=f"{fire_name}：✔ / ✔ / … / …", since=mark)
    assert read.content.get("m.relates_to", {}).get("rel_type") == "m.replace"
    mark = officer.mark()
    await officer.send_text(room, "!指令列表")
    listed = await officer.wait_for_message(room, sender=bot.user_id, contains="O1", since=mark)
    assert f"{fire_name}：✔ / ✔ / … / …" in (listed.body or ""), listed.body
