"""The approvals feature's chat side: one router, made fresh for each dispatcher."""

from __future__ import annotations

from bot import Reaction, Router, StateFilter
from bot.filters import PlainText
from commands import prompts
from commands.approvals.commands import (
    ADDSIGN,
    APPROVAL,
    APPROVALS,
    APPROVE,
    NUDGE,
    REJECT,
    RESUBMIT,
    RETURN,
    TRANSFER,
    WITHDRAW,
)
from commands.approvals.handlers import chain, decide, reading, start


def router() -> Router:
    made = Router("approvals")
    made.message(APPROVAL)(start.approval_command)
    made.message(StateFilter(start.NewApproval.title, start.NewApproval.chain), PlainText())(start.wizard_answer)
    made.message(APPROVE)(decide.approve_command)
    made.message(REJECT)(decide.reject_command)
    made.message(decide.reply_to_card)(decide.decide_by_reply)
    made.reaction(Reaction("✅", "❌"), decide.on_approval)(decide.decide_by_reaction)
    made.message(prompts.answer_to_prompt(decide.RejectReason.reason))(decide.reject_reason)
    made.message(TRANSFER)(chain.transfer_command)
    made.message(ADDSIGN)(chain.addsign_command)
    made.message(RETURN)(chain.return_command)
    made.message(RESUBMIT)(chain.resubmit_command)
    made.message(WITHDRAW)(chain.withdraw_command)
    made.message(NUDGE)(chain.nudge_command)
    made.message(APPROVALS)(reading.list_approvals)
    made.message(reading.in_card_thread)(reading.thread_text)
    return made
