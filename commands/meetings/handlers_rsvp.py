"""Answers in chat: ✅ / ❌ / 🔁 on the room card or the DM notice, and `!attend` `!leave` `!deputy`.

❌ counts the leave at once (the tally must not wait) and then asks for the reason; 🔁 asks who
goes instead. Both questions wait in the FSM of that person in that room.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot import (
    CommandObject,
    Message,
    Reaction,
    ReactionEvent,
    Router,
    State,
    StatesGroup,
    UserFacingError,
)
from bot.filters import FilterResult
from bot.outbound import Sent
from bot.types import Event
from commands import prompts
from commands.meetings import chat, notices, parsing, service
from commands.meetings.models import ATTEND, LEAVE
from records import outbox
from records.clock import Clock
from records.errors import NotAllowed

router = Router("meetings.rsvp")


class Answer(StatesGroup):
    reason = State()
    deputy = State()


async def _on_meeting_notice(event: Event, data: dict[str, Any]) -> FilterResult:
    """A reaction on a meeting's room card or on someone's DM notice."""
    session = data.get("session")
    if not isinstance(event, ReactionEvent) or session is None:
        return False
    meeting_id = notices.parse_ref(await outbox.ref_for_event(session, event.reacts_to))
    return False if meeting_id is None else {"meeting_id": meeting_id}


# A reaction is on a card or a notice the reactor reads, and names no id of its own: it is
# answered about that meeting ("you are not on its list"), which tells them nothing new.
@router.reaction(Reaction("✅", "❌", "🔁"), _on_meeting_notice)
async def answer_by_reaction(
    reaction: ReactionEvent,
    meeting_id: int,
    session: AsyncSession,
    state: Any,
    clock: Clock,
    lang: str,
    tz: str,
    t: Any,
) -> None:
    key = reaction.key.replace("\ufe0f", "")

    async def say(text: str) -> Sent:
        return await reaction.outbound.send(reaction.room_id, outbox.text_content(text))

    with chat.user_terms(lang, tz, clock.now()):
        if key == "✅":
            meeting, _ = await service.respond(session, meeting_id, reaction.sender, ATTEND, clock)
            if reaction.is_dm:  # in the room the edited card is the answer
                await say(t("meeting.answered_attend", user=reaction.sender, code=meeting.code))
        elif key == "❌":
            meeting, _ = await service.respond(session, meeting_id, reaction.sender, LEAVE, clock)
            sent = await say(t("meeting.ask_reason", user=reaction.sender))
            await prompts.wait_for_answer(state, Answer.reason, {"meeting_id": meeting_id}, sent)
        else:
            meeting = await service.get_meeting(session, meeting_id)
            if await service.attendee(session, meeting_id, reaction.sender) is None:
                raise NotAllowed("meeting.not_invited", code=meeting.code)
            sent = await say(t("meeting.ask_deputy", user=reaction.sender, code=meeting.code))
            await prompts.wait_for_answer(state, Answer.deputy, {"meeting_id": meeting_id}, sent)


# In a group only a reply to the question is the answer (commands.prompts); in a DM, the next message.
@router.message(prompts.answer_to_prompt(Answer.reason))
async def reason_answer(
    message: Message, session: AsyncSession, state: Any, clock: Clock, lang: str, tz: str, t: Any
) -> None:
    meeting_id = int((await state.get_data())["meeting_id"])
    await state.clear()
    with chat.user_terms(lang, tz, clock.now()):
        meeting = await service.set_leave_reason(session, meeting_id, message.sender, message.body, clock)
    await message.reply(t("meeting.reason_saved", code=meeting.code))


@router.message(prompts.answer_to_prompt(Answer.deputy))
async def deputy_answer(
    message: Message,
    session: AsyncSession,
    state: Any,
    clock: Clock,
    settings: Any,
    lang: str,
    tz: str,
    t: Any,
    directory: Any = None,
) -> None:
    if message.body.strip().lower() in chat.CANCEL_WORDS:
        await state.clear()
        return
    _, people = parsing.split_attendees(await _named(directory, chat.full_text(message, settings)))
    if len(people) != 1:
        await message.reply(t("meeting.need_one_person"))
        return
    meeting_id = int((await state.get_data())["meeting_id"])
    await state.clear()
    await _deputy(message, meeting_id, people[0], session, clock, lang, tz, t)


async def _named(directory: Any, text: str) -> str:
    """`text` with the people it names as full Matrix IDs; an unknown one is refused (records.directory)."""
    return text if directory is None else str(await directory.resolve_text(text))


async def _deputy(
    message: Message, meeting_id: int, deputy: str, session: AsyncSession, clock: Clock, lang: str, tz: str, t: Any
) -> None:
    with chat.user_terms(lang, tz, clock.now()):
        meeting, _ = await service.appoint_deputy(session, meeting_id, message.sender, deputy, clock)
    await message.reply(t("meeting.deputy_set", deputy=deputy, user=message.sender, code=meeting.code))


@router.message(chat.ATTEND)
async def attend(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    clock: Clock,
    lang: str,
    tz: str,
    t: Any,
    resolve_roles: Any = None,
) -> None:
    with chat.user_terms(lang, tz, clock.now()):
        named, _ = await chat.named_meeting(session, message, command.args, resolve_roles)
        meeting, _ = await service.respond(session, named.id, message.sender, ATTEND, clock)
    await message.reply(t("meeting.answered_attend", user=message.sender, code=meeting.code))


@router.message(chat.LEAVE)
async def leave(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    state: Any,
    clock: Clock,
    lang: str,
    tz: str,
    t: Any,
    resolve_roles: Any = None,
) -> None:
    with chat.user_terms(lang, tz, clock.now()):
        named, reason = await chat.named_meeting(session, message, command.args, resolve_roles)
        meeting, _ = await service.respond(session, named.id, message.sender, LEAVE, clock, reason=reason)
        if reason and meeting.organizer != message.sender:
            await notices.tell(
                session, meeting, meeting.organizer, "meeting.leave_dm", clock, user=message.sender, reason=reason
            )
    text = t("meeting.answered_leave", user=message.sender, code=meeting.code)
    if reason:
        await message.reply(text)
        return
    sent = await message.reply(text + "\n" + t("meeting.ask_reason", user=message.sender))
    await prompts.wait_for_answer(state, Answer.reason, {"meeting_id": meeting.id}, sent)


@router.message(chat.DEPUTY)
async def deputy(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    clock: Clock,
    settings: Any,
    lang: str,
    tz: str,
    t: Any,
    resolve_roles: Any = None,
    directory: Any = None,
) -> None:
    with chat.user_terms(lang, tz, clock.now()):
        named, _ = await chat.named_meeting(session, message, command.args, resolve_roles)
    _, people = parsing.split_attendees(await _named(directory, chat.args_of(message, command, settings)))
    if len(people) != 1:
        raise UserFacingError("meeting.need_one_person")
    await _deputy(message, named.id, people[0], session, clock, lang, tz, t)
