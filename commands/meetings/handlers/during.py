"""During a meeting: sign-in (`!checkin`), the minutes (`!minutes`, the card's thread), actions (`!action`)."""

from __future__ import annotations

from bot import CommandObject, Message, UserFacingError
from bot.filters import FilterResult, is_typed, parsed_command
from bot.offloop import off_loop
from bot.types import Event
from commands.meetings import minutes, parsing, service
from commands.meetings.handlers.arguments import args_of, is_admin, named_meeting, policy_of, user_terms
from commands.meetings.models import Meeting
from commands.plugin import MakeTask
from commands.turn import Turn
from timeparse import format_when


async def checkin(message: Message, command: CommandObject, turn: Turn) -> None:
    now = turn.clock.now()
    with user_terms(turn):
        named, code = await named_meeting(message, command.args, turn)
        if not code:
            raise UserFacingError("meeting.need_checkin_code")
        meeting, _ = await service.check_in(
            turn.session, named.id, message.sender, code.split()[0], policy=policy_of(turn), clock=turn.clock
        )
    time = format_when(now, tz=turn.tz, lang=turn.lang, now=now).rsplit(" ", 1)[-1][-5:]
    await message.reply(turn.t("meeting.checkin_ok", user=message.sender, code=meeting.code, time=time))


async def minutes_command(message: Message, command: CommandObject, turn: Turn) -> None:
    with user_terms(turn):
        meeting, text = await named_meeting(message, command.args, turn)
        if not text:  # `!minutes M3` alone reads the minutes so far (or the final ones)
            await message.reply(await minutes.summary(turn.session, meeting, turn.lang, turn.tz, turn.clock.now()))
            return
        await minutes.add_minute(turn.session, meeting.id, message.sender, text, clock=turn.clock, source="command")
    await message.reply(turn.t("meeting.minute_ok", code=meeting.code))


async def action_command(message: Message, command: CommandObject, turn: Turn, make_task: MakeTask) -> None:
    now, lang, tz = turn.clock.now(), turn.lang, turn.tz
    admin = await is_admin(turn, message.sender)
    with user_terms(turn):
        meeting, rest = await named_meeting(message, args_of(message, command, turn), turn)
        # The owner of an action item must be someone the office knows.
        rest = await turn.directory.resolve_text(rest)
        assignee, title, due = await off_loop(parsing.parse_action, rest, now=now, tz=tz)
        result = await minutes.add_action(
            turn.session,
            meeting.id,
            message.sender,
            assignee,
            title,
            due,
            clock=turn.clock,
            make_task=make_task,
            is_admin=admin,
        )
    task_code = turn.t("meeting.action_task", code=result.task.code)
    due_text = format_when(due, tz=tz, lang=lang, now=now)
    await message.reply(turn.t("meeting.action_ok", user=assignee, task=title, due=due_text, task_code=task_code))
    # The supervised task's own card, so that its ✅/❌ and thread work like any task's.
    await message.answer(result.task.card(lang, tz, now), ref=result.task.card_ref)


async def in_meeting_thread(event: Event, data: dict[str, object]) -> FilterResult:
    """Plain text in a meeting card's thread while the minutes are open, from someone on the list."""
    turn = data.get("turn")
    # A file is not typed text: its name is never a line of the minutes.
    if not isinstance(turn, Turn) or not is_typed(event) or not event.thread_root:
        return False
    if parsed_command(event, data) is not None:
        return False
    meeting = await minutes.meeting_of_thread(turn.session, event.thread_root)
    if meeting is None or not minutes.taking_minutes(meeting, policy_of(turn), turn.clock.now()):
        return False
    invited = await service.attendee(turn.session, meeting.id, event.sender) is not None
    if event.sender != meeting.organizer and not invited:
        return False
    return {"minutes_meeting": meeting}


async def thread_minutes(message: Message, minutes_meeting: Meeting, turn: Turn) -> None:
    await minutes.add_minute(
        turn.session,
        minutes_meeting.id,
        message.sender,
        message.body,
        clock=turn.clock,
        source="thread",
        event_id=message.event_id,
    )
    await message.react("📝")
