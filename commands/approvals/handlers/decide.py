"""Deciding: `!同意` / `!驳回`, a "同意 …" reply to a card or a DM notice, and ✅ / ❌ on one.

The card ("card:A12") and the DM notices ("approval:A12:notice:@x") both take ✅ / ❌; ❌ without
a reason asks for one. Rules live in the service; this module parses, calls and answers.
"""

from __future__ import annotations

import re

from bot import CommandObject, Message, ReactionEvent, State, StatesGroup
from bot.filters import FilterResult, is_typed, parsed_command
from bot.types import Event
from commands import prompts
from commands.approvals import render, service
from commands.approvals.handlers.confirm import answer_reaction, ask_confirmation
from commands.approvals.handlers.named import approval_of, visible
from commands.approvals.handlers.start import CANCEL
from commands.cards import on_card
from commands.turn import Turn
from records import outbox

_REPLY_WORD = re.compile(r"^\s*(不同意|同意|批准|驳回|approve|reject)(?:[\s,，:：。.!！]+(.*))?$", re.S | re.I)


class RejectReason(StatesGroup):
    reason = State()


def outcome_text(outcome: service.Outcome, turn: Turn, actor: str, opinion: str) -> str:
    code = outcome.approval.code
    if outcome.event == "approved":
        return turn.t("approval.approved_reply", code=code)
    if outcome.event == "rejected":
        return turn.t("approval.rejected_reply", code=code, reason=opinion)
    if outcome.event == "step_done":
        step = render.label_in(outcome.step_name)(turn.lang)
        return turn.t("approval.step_done_reply", code=code, step=step, people=", ".join(outcome.notified))
    return turn.t("approval.recorded", code=code, user=actor)


async def _decide(message: Message, turn: Turn, approval_id: int, approve: bool, opinion: str) -> None:
    try:
        outcome = await service.decide(turn.session, approval_id, message.sender, approve, opinion, turn.clock)
    except service.ConfirmationNeeded as needed:
        await message.reply(*await ask_confirmation(turn, needed, message.sender, opinion))
        return
    await message.reply(outcome_text(outcome, turn, message.sender, opinion))


async def approve_command(message: Message, command: CommandObject, turn: Turn) -> None:
    approval, opinion = await approval_of(message, turn, command.args)
    await _decide(message, turn, approval.id, True, opinion)


async def reject_command(message: Message, command: CommandObject, turn: Turn) -> None:
    approval, reason = await approval_of(message, turn, command.args)
    await _decide(message, turn, approval.id, False, reason)


async def reply_to_card(event: Event, data: dict[str, object]) -> FilterResult:
    """A plain "同意 …" / "驳回 …" written as a reply to a card or a DM notice (a filter:
    `data` is the framework's loose dict)."""
    turn = data.get("turn")
    # A file is not typed text, whatever its name says ("同意.pdf").
    if not is_typed(event) or event.reply_to is None or not isinstance(turn, Turn):
        return False
    match = _REPLY_WORD.match(event.body)
    if match is None or parsed_command(event, data) is not None:
        return False
    approval_id = service.parse_ref(await outbox.ref_for_event(turn.session, event.reply_to))
    if approval_id is None:
        return False
    yes = match.group(1).lower() in ("同意", "批准", "approve")
    return {"approval_id": approval_id, "approve": yes, "opinion": (match.group(2) or "").strip()}


async def decide_by_reply(message: Message, approval_id: int, approve: bool, opinion: str, turn: Turn) -> None:
    # A reply names its card only by an event id the client sends, like a typed id: the one rule first.
    await visible(turn, approval_id, message.sender)
    await _decide(message, turn, approval_id, approve, opinion)


def approval_card(ref: str) -> dict[str, int] | None:
    """A card or a DM notice of an approval: which approval."""
    approval_id = service.parse_ref(ref)
    return None if approval_id is None else {"approval_id": approval_id}


# A reaction on a card or a DM notice of an approval.
on_approval = on_card(approval_card)


async def decide_by_reaction(reaction: ReactionEvent, approval_id: int, turn: Turn) -> None:
    """A reaction is on a card or a notice the reactor reads, and names no id of its own: it is
    answered about that card ("not an approver of A12"), which tells them nothing new."""

    async def say(text: str) -> None:
        await reaction.outbound.send(reaction.room_id, outbox.text_content(text))

    if reaction.key.replace("\ufe0f", "") == "✅":
        try:
            outcome = await service.decide(turn.session, approval_id, reaction.sender, True, "", turn.clock)
        except service.ConfirmationNeeded as needed:
            answer = await answer_reaction(turn, needed, reaction.sender, in_dm=reaction.is_dm)
            await reaction.outbound.send(reaction.room_id, answer)
            return
        if reaction.is_dm:  # in the room, the edited card is the answer
            await say(outcome_text(outcome, turn, reaction.sender, ""))
        return
    approval = await service.check_turn(turn.session, approval_id, reaction.sender)
    question = turn.t("approval.ask_reject_reason", user=reaction.sender, code=approval.code)
    sent = await reaction.outbound.send(reaction.room_id, outbox.text_content(question))
    await prompts.wait_for_answer(turn.state, RejectReason.reason, {"approval_id": approval_id}, sent)


async def reject_reason(message: Message, turn: Turn) -> None:
    """In a group only a reply to the question is the reason (commands.prompts); in a DM, the next message."""
    data = await turn.state.get_data()
    await turn.state.clear()
    if message.body.strip().lower() in CANCEL:
        await message.reply(turn.t("approval.wizard_cancelled"))
        return
    await _decide(message, turn, int(data["approval_id"]), False, message.body.strip())
