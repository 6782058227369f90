"""`!push` (a sign-in link by DM), `!push test`, `!push signout` (sign out everywhere), and
`!push revoke @x` (an admin ends someone's sessions)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot import CommandObject, Message, UserFacingError
from bot.mentions import user_ids_in
from commands.push import service
from commands.turn import Turn
from records.errors import NotAllowed


async def push(message: Message, command: CommandObject, turn: Turn) -> None:
    # The sub-command table (commands.PUSH) has already read the first word: no word is the
    # sign-in link, an unknown word never reaches here.
    act = SUBCOMMANDS.get(command.sub or "")
    if act is None:
        if command.args.strip():
            raise UserFacingError("push.usage.sub", usage_of="push", value=command.args.strip()[:40])
        await _link(message, command, turn)
        return
    await act(message, command, turn)


async def _link(message: Message, command: CommandObject, turn: Turn) -> None:
    await service.send_signin_link(turn, message.sender)
    if not message.is_dm:
        await message.reply(turn.t("push.link.sent"))


def _no_more_words(command: CommandObject) -> None:
    if command.sub_args:
        raise UserFacingError("push.usage.sub", usage_of="push", value=command.args.strip()[:40])


async def _sign_out_everywhere(message: Message, command: CommandObject, turn: Turn) -> None:
    _no_more_words(command)
    ended, devices = await service.end_sessions(turn, message.sender, message.sender, "push.signout_all")
    await message.reply(turn.t("push.signout.done", sessions=ended, devices=devices))


async def _revoke(message: Message, command: CommandObject, turn: Turn) -> None:
    """An admin ends someone's sessions and devices at once (a lost phone, someone who left)."""
    # Global admins only: a room's power level 100 is anyone's who creates a room.
    if "admin" not in await turn.resolve_roles(message.sender):
        raise NotAllowed("push.revoke.not_admin")
    targets = list(dict.fromkeys([*command.mentions, *user_ids_in(command.sub_args)]))
    if len(targets) != 1:
        raise UserFacingError("push.revoke.who", usage_of="push")
    [target] = targets
    ended, devices = await service.end_sessions(turn, message.sender, target, "push.revoke")
    await message.reply(turn.t("push.revoke.done", user=target, sessions=ended, devices=devices))


async def _test(message: Message, command: CommandObject, turn: Turn) -> None:
    _no_more_words(command)
    if not await service.devices_of(turn, message.sender):
        await message.reply(turn.t("push.test.none"))
        return
    result = await service.test_push(turn, message.sender)
    if result.skipped_quiet:
        await message.reply(turn.t("push.test.quiet", count=result.skipped_quiet))
    else:
        await message.reply(turn.t("push.test.queued", count=result.queued))


# One handler per sub-command of commands.PUSH, by its canonical name.
SUBCOMMANDS: dict[str, Callable[[Message, CommandObject, Turn], Awaitable[None]]] = {
    "test": _test,
    "signout": _sign_out_everywhere,
    "revoke": _revoke,
}
