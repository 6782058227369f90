"""`!quiet`: show, set or clear one's quiet hours."""

from __future__ import annotations

from bot import CommandObject, Message, UserFacingError
from commands.push import service
from commands.turn import Turn
from records import people


async def quiet(message: Message, command: CommandObject, turn: Turn) -> None:
    arg = (command.args or "").strip()
    if not arg:
        person = await people.ensure_person(turn.session, message.sender)
        if person.quiet_hours:
            await message.reply(turn.t("quiet.current", hours=person.quiet_hours, tz=turn.tz))
        else:
            await message.reply(turn.t("quiet.none"))
        return
    try:
        hours = await service.set_quiet_hours(turn, message.sender, arg)
    except ValueError:
        raise UserFacingError("quiet.bad", usage_of="quiet", value=arg[:40]) from None
    await message.reply(turn.t("quiet.set", hours=hours, tz=turn.tz) if hours else turn.t("quiet.off"))
