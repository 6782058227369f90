"""Scheduling in chat: `!meeting new …`, the wizard for missing parts, and the conflict check.

Conflicts (place taken, someone busy, too few seats) never stop a meeting silently and never
create one silently either: the organizer sees them and confirms with ✅ / `!confirm`, or drops
the draft with ❌ / "cancel". The draft waits in the FSM (per user and room) meanwhile.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot import Message, Reaction, ReactionEvent, Router, State, StateFilter, StatesGroup
from bot.filters import PlainText
from bot.offloop import off_loop
from commands.meetings import chat, parsing, service
from commands.meetings.models import Meeting
from commands.meetings.policy import MeetingPolicy
from records import outbox
from records.clock import Clock
from timeparse import format_when

router = Router("meetings.schedule")


class NewMeeting(StatesGroup):
    title = State()
    when = State()
    place = State()
    attendees = State()
    confirm = State()


def _draft_data(draft: parsing.MeetingDraft, *, place_asked: bool, people_asked: bool) -> dict[str, Any]:
    return {
        "title": draft.title,
        "starts_at": draft.starts_at.isoformat() if draft.starts_at else None,
        "place": draft.place,
        "attendees": draft.attendees,
        "place_asked": place_asked,
        "people_asked": people_asked,
    }


def _draft_of(data: dict[str, Any]) -> parsing.MeetingDraft:
    starts = data.get("starts_at")
    return parsing.MeetingDraft(
        title=data.get("title") or "",
        starts_at=datetime.fromisoformat(starts) if starts else None,
        place=data.get("place"),
        attendees=list(data.get("attendees") or []),
    )


async def start_new(
    message: Message,
    args: str,
    *,
    session: AsyncSession,
    state: Any,
    clock: Clock,
    settings: Any,
    lang: str,
    tz: str,
    t: Any,
    directory: Any = None,
) -> None:
    """`!meeting new <title> <when> [at <place>] @…`: schedule at once, or ask what is missing."""
    policy = chat.policy_of(settings)
    now = clock.now()
    if directory is not None:  # nobody is invited (or counted as notified) who does not exist
        args = await directory.resolve_text(args)
    with chat.user_terms(lang, tz, now):
        draft = await off_loop(parsing.parse_new_meeting, args, now=now, tz=tz)
        draft.place = policy.resolve_place(draft.place)
    await state.clear()
    await _continue(message, draft, {}, session=session, state=state, clock=clock, policy=policy, lang=lang, tz=tz, t=t)


async def _continue(
    message: Message,
    draft: parsing.MeetingDraft,
    flags: dict[str, Any],
    *,
    session: AsyncSession,
    state: Any,
    clock: Clock,
    policy: MeetingPolicy,
    lang: str,
    tz: str,
    t: Any,
) -> None:
    """Ask for the next missing part, or check conflicts and schedule."""
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
    conflicts = await service.find_conflicts(
        session, starts_at=draft.starts_at, ends_at=ends_at, place=draft.place, people=people, policy=policy
    )
    if conflicts:
        await state.set_state(NewMeeting.confirm)
        items = "".join(conflict_line(c, t, lang, tz, clock.now()) for c in conflicts)
        await message.reply(t("meeting.conflicts", items=items))
        return
    await state.clear()
    meeting = await _create(
        message.sender, message.room_id, draft, session=session, clock=clock, policy=policy, lang=lang, tz=tz
    )
    await message.reply(_created_text(meeting, len(draft.attendees), t, lang, tz, clock.now()))


def conflict_line(c: service.Conflict, t: Any, lang: str, tz: str, now: datetime) -> str:
    if c.kind == "capacity":
        return str(t("meeting.conflict_capacity", place=c.who, seats=c.seats, needed=c.needed))
    when = format_when(c.starts_at, tz=tz, lang=lang, now=now) if c.starts_at else ""
    key = "meeting.conflict_place" if c.kind == "place" else "meeting.conflict_person"
    return str(t(key, place=c.who, user=c.who, code=c.code, title=c.title, when=when))


async def _create(
    organizer: str,
    room_id: str,
    draft: parsing.MeetingDraft,
    *,
    session: AsyncSession,
    clock: Clock,
    policy: MeetingPolicy,
    lang: str,
    tz: str,
) -> Meeting:
    assert draft.starts_at is not None
    with chat.user_terms(lang, tz, clock.now()):
        meeting = await service.create_meeting(
            session,
            organizer=organizer,
            title=draft.title,
            starts_at=draft.starts_at,
            place=draft.place,
            attendees=draft.attendees,
            room_id=room_id,
            policy=policy,
            clock=clock,
            lang=lang,
            tz=tz,
        )
    return meeting


def _created_text(meeting: Meeting, count: int, t: Any, lang: str, tz: str, now: datetime) -> str:
    """The reply to the organizer, echoing the time as understood (in their zone)."""
    return str(
        t(
            "meeting.created",
            code=meeting.code,
            title=meeting.title,
            when=format_when(meeting.starts_at, tz=tz, lang=lang, now=now),
            place=meeting.place or t("meeting.place_tbd"),
            count=count,
        )
    )


# -- the wizard ------------------------------------------------------------------------------
@router.message(StateFilter(*NewMeeting.states()), PlainText())
async def wizard_answer(
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
    text = chat.full_text(message, settings).strip()
    if text.lower() in chat.CANCEL_WORDS:
        await state.clear()
        await message.reply(t("meeting.dropped"))
        return
    current = await state.get_state()
    data = await state.get_data()
    draft = _draft_of(data)
    policy = chat.policy_of(settings)
    now = clock.now()
    if current == NewMeeting.confirm:
        if text.lower() not in {"确认", "confirm", "yes", "是", "好"}:
            return  # anything else leaves the question open
        await _confirmed(message.sender, message.room_id, state, session, clock, policy, lang, tz, t, message.reply)
        return
    with chat.user_terms(lang, tz, now):
        if current == NewMeeting.title:
            draft.title = text[:2000]
        elif current == NewMeeting.when:
            draft.starts_at = (await off_loop(parsing.parse_when_reply, text, now=now, tz=tz)).at
        elif current == NewMeeting.place:
            draft.place = None if text.lower() in chat.NONE_WORDS else policy.resolve_place(text)
            data["place_asked"] = True
        elif current == NewMeeting.attendees:
            if text.lower() not in chat.NONE_WORDS:
                if directory is not None:
                    text = await directory.resolve_text(text)
                _, people = parsing.split_attendees(text)
                if not people:
                    await message.reply(t("meeting.ask_attendees"))
                    return
                draft.attendees = people
            data["people_asked"] = True
    await _continue(
        message, draft, data, session=session, state=state, clock=clock, policy=policy, lang=lang, tz=tz, t=t
    )


@router.message(chat.CONFIRM, StateFilter(NewMeeting.confirm))
async def confirm_command(
    message: Message, session: AsyncSession, state: Any, clock: Clock, settings: Any, lang: str, tz: str, t: Any
) -> None:
    policy = chat.policy_of(settings)
    await _confirmed(message.sender, message.room_id, state, session, clock, policy, lang, tz, t, message.reply)


@router.reaction(Reaction("✅", "❌"), StateFilter(NewMeeting.confirm))
async def confirm_reaction(
    reaction: ReactionEvent, session: AsyncSession, state: Any, clock: Clock, settings: Any, lang: str, tz: str, t: Any
) -> None:
    async def say(text: str) -> None:
        await reaction.outbound.send(reaction.room_id, outbox.text_content(text))

    if reaction.key.replace("\ufe0f", "") == "❌":
        await state.clear()
        await say(t("meeting.dropped"))
        return
    policy = chat.policy_of(settings)
    await _confirmed(reaction.sender, reaction.room_id, state, session, clock, policy, lang, tz, t, say)


async def _confirmed(
    user: str,
    room_id: str,
    state: Any,
    session: AsyncSession,
    clock: Clock,
    policy: MeetingPolicy,
    lang: str,
    tz: str,
    t: Any,
    say: Any,
) -> None:
    draft = _draft_of(await state.get_data())
    await state.clear()
    meeting = await _create(user, room_id, draft, session=session, clock=clock, policy=policy, lang=lang, tz=tz)
    await say(_created_text(meeting, len(draft.attendees), t, lang, tz, clock.now()))
