"""`!全局 挂件` through a real homeserver: the room's admin pins the board as a widget
(`im.vector.modular.widgets`) pointing at /board/widget; a room that does not let the bot set state is
told so; someone without power in the room is refused."""

from __future__ import annotations

import pytest
from nio import RoomGetStateEventError

from commands.board.widget import WIDGET_ID, WIDGETS
from tests.e2e.conftest import MakeBot
from tests.support.fixtures import MakeUser

pytestmark = pytest.mark.e2e


async def test_a_room_admin_pins_the_board(make_bot: MakeBot, make_user: MakeUser) -> None:
    alice = await make_user("alice")  # created the room: power level 100
    eve = await make_user("eve")
    bot = await make_bot(e2ee=False)
    room = await alice.create_room(invite=[bot.user_id, eve.user_id])
    for member in (bot.user_id, eve.user_id):
        await alice.wait_for_member(room, member)

    mark = eve.mark()
    await eve.send_text(room, "!全局 挂件")
    await eve.wait_for_message(room, sender=bot.user_id, contains="只有本群管理员可以把看板挂到本群", since=mark)

    # The bot holds no power here yet: the homeserver refuses the state event, and the room hears why.
    mark = alice.mark()
    await alice.send_text(room, "!全局 挂件")
    await alice.wait_for_message(room, sender=bot.user_id, contains="没能把看板挂到本群", since=mark)
    missing = await alice.client.room_get_state_event(room, WIDGETS, WIDGET_ID)
    assert isinstance(missing, RoomGetStateEventError)

    levels = await alice.client.room_get_state_event(room, "m.room.power_levels")
    content = dict(levels.content)  # type: ignore[union-attr]
    content["users"] = {**content.get("users", {}), bot.user_id: 50}
    await alice.client.room_put_state(room, "m.room.power_levels", content)

    mark = alice.mark()
    await alice.send_text(room, "!board widget")
    await alice.wait_for_message(room, sender=bot.user_id, contains="已把全局看板挂到本群", since=mark)
    widget = await alice.client.room_get_state_event(room, WIDGETS, WIDGET_ID)
    # The widget page, which may be framed and signs in with the widget API; Element fills in the variables.
    url = widget.content["url"]  # type: ignore[union-attr]
    assert url.endswith("/board/widget?widgetId=$matrix_widget_id&userId=$matrix_user_id&roomId=$matrix_room_id")
    assert widget.content["type"] == "m.custom" and widget.content["creatorUserId"] == alice.user_id  # type: ignore[union-attr]
