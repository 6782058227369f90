"""Answers in chat: ✅ / ❌ / 🔁 on the room card or the DM notice, and `!attend` `!leave` `!deputy`.

❌ counts the leave at once (the tally must not wait) and then asks for the reason; 🔁 asks who
goes instead. Both questions wait in the FSM of that person in that room.
"""

from __future__ import annotations

from bot import CommandObject, Message, ReactionEvent, State, StatesGroup, UserFacingError
from bot.outbound import Sent
from commands import prompts
from commands.cards import on_card
from commands.meetings import notices, parsing, service
from commands.meetings.handlers.arguments import CANCEL_WORDS, args_of, named_meeting, user_terms
from commands.meetings.models import ATTEND, LEAVE
from commands.turn import Turn
from records import outbox
from records.errors import NotAllowed


class Answer(StatesGroup):
    reason = State()
    deputy = State()


def meeting_card(ref: str) -> dict[str, int] | None:
    """A meeting's room card or someone's DM notice of it: which meeting."""
    meeting_id = notices.parse_ref(ref)
    return None if meeting_id is None else {"meeting_id": meeting_id}


# A reaction on a meeting's room card or on someone's DM notice.
on_meeting_notice = on_card(meeting_card)


# A reaction is on a card or a notice the reactor reads, and names no id of its own: it is
# answered about that meeting ("you are not on its list"), which tells them nothing new.
async def answer_by_reaction(reaction: ReactionEvent, meeting_id: int, turn: Turn) -> None:
    key = reaction.key.replace("\ufe0f", "")
    session, clock, t = turn.session, turn.clock, turn.t

    async def say(text: str) -> Sent:
        return await reaction.outbound.send(reaction.room_id, outbox.text_content(text))

    with user_terms(turn):
        if key == "✅":
            meeting, _ = await service.respond(session, meeting_id, reaction.sender, ATTEND, clock)
            if reaction.is_dm:  # in the room the edited card is the answer
                await say(t("meeting.answered_attend", user=reaction.sender, code=meeting.code))
        elif key == "❌":
            meeting, _ = await service.respond(session, meeting_id, reaction.sender, LEAVE, clock)
            sent = await say(t("meeting.ask_reason", user=reaction.sender))
            await prompts.wait_for_answer(turn.state, Answer.reason, {"meeting_id": meeting_id}, sent)
        else:
            meeting = await service.get_meeting(session, meeting_id)
            if await service.attendee(session, meeting_id, reaction.sender) is None:
                raise NotAllowed("meeting.not_invited", code=meeting.code)
            sent = await say(t("meeting.ask_deputy", user=reaction.sender, code=meeting.code))
            await prompts.wait_for_answer(turn.state, Answer.deputy, {"meeting_id": meeting_id}, sent)


# In a group only a reply to the question is the answer (commands.prompts); in a DM, the next message.
async def reason_answer(message: Message, turn: Turn) -> None:
    meeting_id = int((await turn.state.get_data())["meeting_id"])
    await turn.state.clear()
    with user_terms(turn):
        meeting = await service.set_leave_reason(turn.session, meeting_id, message.sender, message.body, turn.clock)
    await message.reply(turn.t("meeting.reason_saved", code=meeting.code))


async def deputy_answer(message: Message, turn: Turn) -> None:
    if message.body.strip().lower() in CANCEL_WORDS:
        await turn.state.clear()
        return
    _, people = parsing.split_attendees(await turn.directory.resolve_text(turn.full_text(message)))
    if len(people) != 1:
        await message.reply(turn.t("meeting.need_one_person"))
        return
    meeting_id = int((await turn.state.get_data())["meeting_id"])
    await turn.state.clear()
    await _deputy(message, meeting_id, people[0], turn)


async def _deputy(message: Message, meeting_id: int, deputy: str, turn: Turn) -> None:
    with user_terms(turn):
        meeting, _ = await service.appoint_deputy(turn.session, meeting_id, message.sender, deputy, turn.clock)
    await message.reply(turn.t("meeting.deputy_set", deputy=deputy, user=message.sender, code=meeting.code))


async def attend(message: Message, command: CommandObject, turn: Turn) -> None:
    with user_terms(turn):
        named, _ = await named_meeting(message, command.args, turn)
        meeting, _ = await service.respond(turn.session, named.id, message.sender, ATTEND, turn.clock)
    await message.reply(turn.t("meeting.answered_attend", user=message.sender, code=meeting.code))


async def leave(message: Message, command: CommandObject, turn: Turn) -> None:
    with user_terms(turn):
        named, reason = await named_meeting(message, command.args, turn)
        meeting, _ = await service.respond(turn.session, named.id, message.sender, LEAVE, turn.clock, reason=reason)
        if reason and meeting.organizer != message.sender:
            await notices.tell(
                turn.session,
                meeting,
                meeting.organizer,
                "meeting.leave_dm",
                turn.clock,
                user=message.sender,
                reason=reason,
            )
    text = turn.t("meeting.answered_leave", user=message.sender, code=meeting.code)
    if reason:
        await message.reply(text)
        return
    sent = await message.reply(text + "\n" + turn.t("meeting.ask_reason", user=message.sender))
    await prompts.wait_for_answer(turn.state, Answer.reason, {"meeting_id": meeting.id}, sent)


async def deputy(message: Message, command: CommandObject, turn: Turn) -> None:
    with user_terms(turn):
        named, _ = await named_meeting(message, command.args, turn)
    _, people = parsing.split_attendees(await turn.directory.resolve_text(args_of(message, command, turn)))
    if len(people) != 1:
        raise UserFacingError("meeting.need_one_person")
    await _deputy(message, named.id, people[0], turn)
