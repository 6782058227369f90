"""Questions that wait for one person's free-text answer: a reason for ❌, who goes instead.

In a busy group the next thing that person writes is as likely to be about something else as
to be the answer, and taking it as the reason would file chatter on a record. So in a group
only a Matrix reply to the question counts as the answer; anything else the person writes is
left alone (a command still runs as a command) and the question stays open. In a direct chat
with the bot there is nobody else to talk to: the next message is the answer.

The question's event id is not known while it waits in the outbox, so the outbox row is kept
with the wizard state and its event id is looked up when a reply comes.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.filters import FilterFunc, FilterResult, parsed_command
from bot.fsm import FSMContext, State, StateFilter
from bot.outbound import Sent
from bot.types import Event, Message
from records.models import OutboxMessage

_PROMPT = "prompt"


async def wait_for_answer(state: FSMContext, step: State, data: dict[str, object], sent: Sent) -> None:
    """Put the person in `step`, remembering the question (`sent`) that their answer must reply to."""
    await state.set_state(step)
    await state.set_data({**data, _PROMPT: {"event_id": sent.event_id, "outbox_id": sent.outbox_id}})


def answer_to_prompt(*steps: State) -> FilterFunc:
    """A filter passing a plain-text answer to the question asked in one of `steps`.

    In a DM any plain text is the answer; in a group only a reply to the question is.
    """
    in_step = StateFilter(*steps)

    async def _answer(event: Event, data: dict[str, object]) -> FilterResult:
        if not isinstance(event, Message) or event.is_voice or parsed_command(event, data) is not None:
            return False
        if not await in_step(event, data):
            return False
        if event.is_dm:
            return True
        if event.reply_to is None:
            return False
        state = data.get("state")
        if not isinstance(state, FSMContext):
            return False
        return await _is_the_question(event.reply_to, (await state.get_data()).get(_PROMPT), data)

    return _answer


async def _is_the_question(reply_to: str, prompt: object, data: dict[str, object]) -> bool:
    if not isinstance(prompt, dict):
        return False  # a question asked before questions were remembered: only a DM answers it
    if prompt.get("event_id") and prompt["event_id"] == reply_to:
        return True
    outbox_id, session = prompt.get("outbox_id"), data.get("session")
    if outbox_id is None or not isinstance(session, AsyncSession):
        return False
    sent_as = await session.scalar(select(OutboxMessage.event_id).where(OutboxMessage.id == int(outbox_id)))
    return bool(sent_as) and sent_as == reply_to
