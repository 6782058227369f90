"""Changing the chain: transfer (转交), add a signer (加签), return (退回), resubmit, withdraw
(撤回), nudge (催办)."""

from __future__ import annotations

from bot import CommandObject, Message, UserFacingError
from commands.approvals import render, service
from commands.approvals.handlers.named import approval_of, args_of, named, one_person
from commands.turn import Turn

_BEFORE = {"before", "前", "之前", "本步前"}
_AFTER = {"after", "后", "之后", "本步后"}


async def transfer_command(message: Message, command: CommandObject, turn: Turn) -> None:
    approval, rest = await approval_of(message, turn, args_of(message, command, turn))
    to = one_person(await named(turn, rest))
    await service.transfer(turn.session, approval.id, message.sender, to, turn.clock)
    await message.reply(turn.t("approval.transferred_reply", code=approval.code, user=message.sender, to=to))


async def addsign_command(message: Message, command: CommandObject, turn: Turn) -> None:
    approval, rest = await approval_of(message, turn, args_of(message, command, turn))
    rest = await named(turn, rest)
    who = one_person(rest)
    words = {w.lower() for w in rest.replace(who, " ").split()}
    where = "before" if words & _BEFORE else "after" if words & _AFTER or not words else None
    if where is None:
        raise UserFacingError("approval.addsign_where")
    await service.add_signer(turn.session, approval.id, message.sender, who, where, turn.clock)
    where_text = turn.t(f"approval.where_{where}")
    await message.reply(turn.t("approval.added_reply", code=approval.code, who=who, where=where_text))


async def return_command(message: Message, command: CommandObject, turn: Turn) -> None:
    approval, reason = await approval_of(message, turn, command.args)
    outcome = await service.return_step(turn.session, approval.id, message.sender, reason, turn.clock)
    if outcome.event == "returned_drafter":
        text = turn.t(
            "approval.returned_drafter_reply", code=approval.code, requester=approval.requester, reason=reason
        )
    else:
        step = render.label_in(outcome.step_name)(turn.lang)
        text = turn.t("approval.returned_reply", code=approval.code, step=step, reason=reason)
    await message.reply(text)


async def resubmit_command(message: Message, command: CommandObject, turn: Turn) -> None:
    approval, note = await approval_of(message, turn, command.args)
    outcome = await service.resubmit(turn.session, approval.id, message.sender, turn.clock, note)
    step = render.label_in(outcome.step_name)(turn.lang)
    await message.reply(turn.t("approval.resubmitted_reply", code=approval.code, step=step))


async def withdraw_command(message: Message, command: CommandObject, turn: Turn) -> None:
    approval, reason = await approval_of(message, turn, command.args)
    await service.withdraw(turn.session, approval.id, message.sender, turn.clock, reason)
    await message.reply(turn.t("approval.withdrawn_reply", code=approval.code))


async def nudge_command(message: Message, command: CommandObject, turn: Turn) -> None:
    approval, _ = await approval_of(message, turn, command.args)
    outcome = await service.nudge(turn.session, approval.id, message.sender, turn.clock)
    await message.reply(turn.t("approval.nudged_reply", code=approval.code, people=", ".join(outcome.notified)))
