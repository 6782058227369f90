"""Scheduling in chat: `!meeting new …`, the wizard for missing parts, and the conflict check.

Conflicts (place taken, someone busy, too few seats) never stop a meeting silently and never
create one silently either: the organizer sees them and confirms with ✅ / `!confirm`, or drops
the draft with ❌ / "cancel". The draft waits in the FSM (per user and room) meanwhile.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime

from bot import Message, ReactionEvent, State, StatesGroup
from bot.offloop import off_loop
from commands.meetings import parsing, render, service
from commands.meetings.conflicts import find_conflicts
from commands.meetings.handlers.arguments import CANCEL_WORDS, NONE_WORDS, policy_of, user_terms
from commands.meetings.models import Meeting
from commands.replies import reply_named
from commands.turn import Turn
from records import outbox


class NewMeeting(StatesGroup):
    title = State()
    when = State()
    place = State()
    attendees = State()
    confirm = State()


# The wizard's data is JSON in the FSM storage: written here, read back value by value.
def _draft_data(draft: parsing.MeetingDraft, *, place_asked: bool, people_asked: bool) -> dict[str, object]:
    return {
        "title": draft.title,
        "starts_at": draft.starts_at.isoformat() if draft.starts_at else None,
        "place": draft.place,
        "attendees": draft.attendees,
        "place_asked": place_asked,
        "people_asked": people_asked,
    }


def _draft_of(data: Mapping[str, object]) -> parsing.MeetingDraft:
    title, starts, place, people = (data.get(key) for key in ("title", "starts_at", "place", "attendees"))
    return parsing.MeetingDraft(
        title=title if isinstance(title, str) else "",
        starts_at=datetime.fromisoformat(starts) if isinstance(starts, str) and starts else None,
        place=place if isinstance(place, str) else None,
        attendees=[p for p in people if isinstance(p, str)] if isinstance(people, list) else [],
    )


async def start_new(message: Message, args: str, turn: Turn) -> None:
    """`!meeting new <title> <when> [at <place>] @…`: schedule at once, or ask what is missing."""
    policy = policy_of(turn)
    now = turn.clock.now()
    # Nobody is invited (or counted as notified) who does not exist.
    args = await turn.directory.resolve_text(args)
    with user_terms(turn):
        draft = await off_loop(parsing.parse_new_meeting, args, now=now, tz=turn.tz)
        draft.place = policy.resolve_place(draft.place)
    await turn.state.clear()
    await _continue(message, draft, {}, turn)


async def _continue(message: Message, draft: parsing.MeetingDraft, flags: Mapping[str, object], turn: Turn) -> None:
    """Ask for the next missing part, or check conflicts and schedule."""
    policy, state, t = policy_of(turn), turn.state, turn.t
    place_asked = bool(flags.get("place_asked")) or draft.place is not None or not policy.places
    people_asked = bool(flags.get("people_asked")) or bool(draft.attendees)
    await state.set_data(_draft_data(draft, place_asked=place_asked, people_asked=people_asked))
    hint = " " + t("meeting.wizard_hint")
    if not draft.title:
        await state.set_state(NewMeeting.title)
        await message.reply(t("meeting.ask_title") + hint)
        return
    if draft.starts_at is None:
        await state.set_state(NewMeeting.when)
        await message.reply(t("meeting.ask_when", title=draft.title) + hint)
        return
    if not place_asked:
        await state.set_state(NewMeeting.place)
        await message.reply(t("meeting.ask_place", known="、".join(policy.places)) + hint)
        return
    if not people_asked:
        await state.set_state(NewMeeting.attendees)
        await message.reply(t("meeting.ask_attendees") + hint)
        return
    people = [*draft.attendees, message.sender]
    ends_at = draft.starts_at + policy.duration
    clashes = await find_conflicts(
        turn.session, starts_at=draft.starts_at, ends_at=ends_at, place=draft.place, people=people, policy=policy
    )
    if clashes:
        await state.set_state(NewMeeting.confirm)
        items = "".join(render.conflict_line(c, t, turn.lang, turn.tz, turn.clock.now()) for c in clashes)
        await reply_named(message, turn.session, t("meeting.conflicts", items=items))  # people by name
        return
    await state.clear()
    meeting = await _create(message.sender, message.room_id, draft, turn)
    await message.reply(render.created_text(meeting, len(draft.attendees), t, turn.lang, turn.tz, turn.clock.now()))


async def _create(organizer: str, room_id: str, draft: parsing.MeetingDraft, turn: Turn) -> Meeting:
    assert draft.starts_at is not None
    with user_terms(turn):
        meeting = await service.create_meeting(
            turn.session,
            organizer=organizer,
            title=draft.title,
            starts_at=draft.starts_at,
            place=draft.place,
            attendees=draft.attendees,
            room_id=room_id,
            policy=policy_of(turn),
            clock=turn.clock,
            lang=turn.lang,
            tz=turn.tz,
        )
    return meeting


# -- the wizard ------------------------------------------------------------------------------
async def wizard_answer(message: Message, turn: Turn) -> None:
    text = turn.full_text(message).strip()
    state, t = turn.state, turn.t
    if text.lower() in CANCEL_WORDS:
        await state.clear()
        await message.reply(t("meeting.dropped"))
        return
    current = await state.get_state()
    data = await state.get_data()
    draft = _draft_of(data)
    policy = policy_of(turn)
    now = turn.clock.now()
    if current == NewMeeting.confirm:
        if text.lower() not in {"确认", "confirm", "yes", "是", "好"}:
            return  # anything else leaves the question open
        await _confirmed(message.sender, message.room_id, turn, message.reply)
        return
    with user_terms(turn):
        if current == NewMeeting.title:
            draft.title = text[:2000]
        elif current == NewMeeting.when:
            draft.starts_at = (await off_loop(parsing.parse_when_reply, text, now=now, tz=turn.tz)).at
        elif current == NewMeeting.place:
            draft.place = None if text.lower() in NONE_WORDS else policy.resolve_place(text)
            data["place_asked"] = True
        elif current == NewMeeting.attendees:
            if text.lower() not in NONE_WORDS:
                _, people = parsing.split_attendees(await turn.directory.resolve_text(text))
                if not people:
                    await message.reply(t("meeting.ask_attendees"))
                    return
                draft.attendees = people
            data["people_asked"] = True
    await _continue(message, draft, data, turn)


async def confirm_command(message: Message, turn: Turn) -> None:
    await _confirmed(message.sender, message.room_id, turn, message.reply)


async def confirm_reaction(reaction: ReactionEvent, turn: Turn) -> None:
    async def say(text: str) -> None:
        await reaction.outbound.send(reaction.room_id, outbox.text_content(text))

    if reaction.key.replace("\ufe0f", "") == "❌":
        await turn.state.clear()
        await say(turn.t("meeting.dropped"))
        return
    await _confirmed(reaction.sender, reaction.room_id, turn, say)


async def _confirmed(user: str, room_id: str, turn: Turn, say: Callable[[str], Awaitable[object]]) -> None:
    draft = _draft_of(await turn.state.get_data())
    await turn.state.clear()
    meeting = await _create(user, room_id, draft, turn)
    await say(render.created_text(meeting, len(draft.attendees), turn.t, turn.lang, turn.tz, turn.clock.now()))
