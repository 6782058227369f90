"""`!全局` (the whole picture, for leaders and duty roles), `!待办` / `!今日` (what waits for me,
for anyone) and `!全局 挂件` (the board pinned in a room, for its admins)."""

from __future__ import annotations

from collections.abc import Sequence

from bot import CommandObject, Message, Refusal, UserFacingError
from commands.board import service, widget
from commands.board.render import Mode, card, people_in
from commands.board_section import BoardSection, Viewer
from commands.turn import Turn
from notifications.names import names_for
from records import audit, outbox
from records.people import Role

#: Who sees the whole picture: the office roles that answer for it.
WHOLE_PICTURE = frozenset({Role.LEADER.value, Role.DUTY_LEADER.value, Role.DUTY_OFFICER.value, Role.ADMIN.value})


async def viewer_of(turn: Turn, user: str) -> Viewer:
    # Power level 100 in this room (room_admin) is no office role: it opens no record anywhere.
    roles = set(await turn.resolve_roles(user)) - {Role.ROOM_ADMIN.value}
    return Viewer(user, frozenset(roles), lang=turn.lang, tz=turn.tz)


async def _show(message: Message, turn: Turn, sections: Sequence[BoardSection], mode: Mode, hint: str) -> None:
    viewer = await viewer_of(turn, message.sender)
    now = turn.clock.now()
    board = await service.board_for(turn.session, viewer, now, sections)
    body, html = card(board, mode, hint=hint, names=await names_for(turn.session, users=people_in(board)))
    day = now.astimezone(viewer.zone).date()
    # One card a day per person, whether asked in their DM or in a shared room: the same ref.
    ref = service.card_ref(mode, "dm", message.sender, day)
    if message.is_dm:
        if not await service.edit_card(turn.session, ref, outbox.text_content(body, html)):
            await message.reply(body, html, ref=ref)
    else:
        # The card lists what the asker may see, not what everyone in this room may: it goes to
        # their DM (one card a day there too, edited when asked again), and the room is told so.
        content = outbox.text_content(body, html)
        if not await service.edit_card(turn.session, ref, content):
            await outbox.enqueue(turn.session, content, to_user=message.sender, ref=ref)
        await message.reply(turn.t("board.card.sent_dm"))
    await audit.record(
        turn.session,
        actor=message.sender,
        action=f"board.{mode}",
        subject=message.sender,
        data={"room": message.room_id, "late": board.late, "actionable": board.actionable},
        clock=turn.clock,
    )


async def whole_picture(message: Message, command: CommandObject, turn: Turn, sections: Sequence[BoardSection]) -> None:
    if command.sub == "widget":
        await _pin_widget(message, command, turn)
        return
    if command.args.strip():
        raise UserFacingError("board.extra", usage_of="board", value=command.args.strip()[:40])
    roles = set(await turn.resolve_roles(message.sender))
    if not WHOLE_PICTURE & roles:
        raise Refusal("board.not_allowed")
    await _show(message, turn, sections, "all", turn.t("board.card.hint_all"))
    await service.send_board_link(turn.session, message.sender, settings=turn.settings, clock=turn.clock, text=turn.t)


async def waiting_for_me(
    message: Message, command: CommandObject, turn: Turn, sections: Sequence[BoardSection]
) -> None:
    if command.args.strip():
        raise UserFacingError("board.extra", usage_of="today", value=command.args.strip()[:40])
    await _show(message, turn, sections, "mine", turn.t("board.card.hint_mine"))


async def _pin_widget(message: Message, command: CommandObject, turn: Turn) -> None:
    if command.sub_args.strip():
        raise UserFacingError("board.extra", usage_of="board", value=command.sub_args.strip()[:40])
    if message.is_dm:
        raise Refusal("board.widget.no_dm")
    roles = set(await turn.resolve_roles(message.sender))
    if not {Role.ROOM_ADMIN.value, Role.ADMIN.value} & roles:
        raise Refusal("board.widget.not_allowed")
    url = service.widget_url(turn.settings)
    await widget.queue_widget(turn.session, room_id=message.room_id, url=url, creator=message.sender, lang=turn.lang)
    await audit.record(
        turn.session,
        actor=message.sender,
        action="board.widget",
        subject=message.room_id,
        data={"url": url},
        clock=turn.clock,
    )
