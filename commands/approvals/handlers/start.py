"""`!审批`: start an approval (in one message, from a template, or through a short wizard),
and the sub-commands that show, export or set one.

Every helper takes the `turn`, never the eight loose values it is made of.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from bot import CommandObject, Message, State, StatesGroup
from bot.mentions import user_ids_in
from bot.offloop import off_loop
from commands.approvals import render, service
from commands.approvals.chain import ChainError, StepSpec, parse_chain, split_title_chain
from commands.approvals.commands import APPROVAL
from commands.approvals.handlers.named import CODE_FIRST, approval_of, args_of, domain, named
from commands.approvals.handlers.reading import export, list_approvals, set_field
from commands.approvals.policy import policy_from_settings
from commands.approvals.templates import steps_from_template
from commands.turn import Turn

CANCEL = {"取消", "cancel", "放弃", "算了", "abort"}
_CC = re.compile(r"(?:^|\s)(?:抄送|cc)[:：]?\s*(.*)$", re.S | re.I)


class NewApproval(StatesGroup):
    title = State()
    chain = State()


async def approval_command(message: Message, command: CommandObject, turn: Turn) -> None:
    args = args_of(message, command, turn)
    if not args:
        await list_approvals(message, None, turn)
        return
    # The sub-command word is read again from the text with full IDs: the rest is passed on.
    word, _, rest = args.partition(" ")
    assert APPROVAL.subcommands is not None
    sub = APPROVAL.subcommands.find(word)
    if sub is None and CODE_FIRST.match(args) and len(args.split()) == 1:
        await _show(message, turn, args)  # `!审批 A12` is short for `!审批 查看 A12`
        return
    if sub is None:
        await _new(message, turn, await named(turn, args))
        return
    await SUBCOMMANDS[sub.name](message, turn, rest)


async def _show(message: Message, turn: Turn, rest: str) -> None:
    approval, _ = await approval_of(message, turn, rest)
    steps = await service.load_steps(turn.session, approval.id)
    await message.reply("\n".join(render.card_lines(approval, steps, turn.clock.now(), turn.lang)))


async def _new_sub(message: Message, turn: Turn, rest: str) -> None:
    await _new(message, turn, await named(turn, rest.strip()))


async def _new(message: Message, turn: Turn, text: str) -> None:
    first, _, after = text.partition(" ")
    if first and first in turn.settings.approvals.templates:
        title, cc = _split_cc(after)
        if not title.strip():
            await _ask(turn, NewApproval.title, {"template": first}, message, "approval.ask_title")
            return
        await _start(message, turn, title, _template_steps(first, turn, message.sender), cc, first)
        return
    title, chain_text = split_title_chain(text)
    if not title:
        await _ask(turn, NewApproval.title, {"chain": chain_text}, message, "approval.ask_title")
        return
    if not chain_text:
        await _ask(turn, NewApproval.chain, {"title": title}, message, "approval.ask_chain")
        return
    steps, cc = await off_loop(_steps, chain_text)
    await _start(message, turn, title, steps, cc, None)


async def _ask(turn: Turn, state: State, data: dict[str, str], message: Message, key: str) -> None:
    await turn.state.set_state(state)
    await turn.state.set_data(data)
    await message.reply(turn.t(key))


async def wizard_answer(message: Message, turn: Turn) -> None:
    state = turn.state
    if message.body.strip().lower() in CANCEL:
        await state.clear()
        await message.reply(turn.t("approval.wizard_cancelled"))
        return
    data = await state.get_data()
    current = await state.get_state()
    text = turn.full_text(message).strip()
    if current == NewApproval.chain:
        text = await named(turn, text)
    if current == NewApproval.title:
        title = " ".join(text.split())
        if not title:
            await message.reply(turn.t("approval.ask_title"))
            return
        if data.get("template"):
            steps = _template_steps(data["template"], turn, message.sender)
            await _start(message, turn, title, steps, [], data["template"])
            await state.clear()
            return
        if data.get("chain"):
            steps, cc = await off_loop(_steps, data["chain"])
            await _start(message, turn, title, steps, cc, None)
            await state.clear()
            return
        await state.update_data(title=title)
        await state.set_state(NewApproval.chain)
        await message.reply(turn.t("approval.ask_chain"))
        return
    # The chain step: a mistake keeps the wizard here, so the user can simply try again.
    steps, cc = await off_loop(_steps, text)
    await _start(message, turn, data.get("title", ""), steps, cc, None)
    await state.clear()


async def _start(
    message: Message, turn: Turn, title: str, steps: list[StepSpec], cc: list[str], template: str | None
) -> None:
    approval = await service.start_approval(
        turn.session,
        requester=message.sender,
        title=title,
        steps=steps,
        room_id=message.room_id,
        clock=turn.clock,
        template=template,
        cc=cc,
        lang=turn.lang,
        tz=turn.tz,
        policy=policy_from_settings(turn.settings, template),
    )
    loaded = await service.load_steps(turn.session, approval.id)
    now = turn.clock.now()
    names = await service.card_names(turn.session, approval, loaded, now=now)
    card = render.card(approval, loaded, now)
    await message.reply(
        card.body(names),
        card.html(names),
        ref=service.card_ref(approval.id),
        mention=render.to_act(approval, loaded),
    )


def _split_cc(chain_text: str) -> tuple[str, list[str]]:
    match = _CC.search(chain_text)
    if match is None:
        return chain_text, []
    return chain_text[: match.start()].strip(), user_ids_in(match.group(1))


def _steps(chain_text: str) -> tuple[list[StepSpec], list[str]]:
    chain_text, cc = _split_cc(chain_text)
    try:
        return parse_chain(chain_text), cc
    except ChainError as exc:
        raise domain(exc) from None


def _template_steps(name: str, turn: Turn, requester: str) -> list[StepSpec]:
    try:
        return steps_from_template(name, turn.settings.approvals.templates, requester, turn.roles.configured)
    except ChainError as exc:
        raise domain(exc) from None


# One function per sub-command of commands.APPROVAL, by its canonical name; each takes the
# words after the sub-command's own.
SUBCOMMANDS: dict[str, Callable[[Message, Turn, str], Awaitable[None]]] = {
    "new": _new_sub,
    "show": _show,
    "export": export,
    "set": set_field,
}
