"""The rest of a meeting's life in chat: `!meeting` sub-commands, lists, sign-in, minutes, actions.

`!meeting <title> …` with no sub-command word schedules (the common case in Chinese:
`!会议 安全生产工作会议 周五 9:30 在 301 @a`).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot import BotClient, CommandObject, MatrixError, Message, Router, UserFacingError
from bot.filters import FilterResult, parsed_command
from bot.offloop import off_loop
from bot.types import Event
from commands.meetings import access, chat, ics, minutes, notices, parsing, service
from commands.meetings.handlers_schedule import conflict_line, start_new
from commands.meetings.models import Meeting
from commands.tasks import service as tasks
from commands.tasks.models import Task
from commands.visibility import viewer_roles
from records import outbox
from records.clock import Clock
from timeparse import format_when

log = logging.getLogger(__name__)
router = Router("meetings.ops")


def _sub_of(args: str) -> tuple[str, str]:
    # The sub-command table is the command spec's (chat.MEETING_SUBS); a near miss never
    # reaches here (the framework refuses it), so an unknown word is the start of a title.
    word, _, rest = args.strip().partition(" ")
    sub = chat.MEETING_SUBS.find(word)
    if sub is not None:
        return sub.name, rest.strip()
    if word and len(args.split()) == 1 and word[:1] in "Mm" and word[1:].isdigit():
        return "show", word
    return "new", args.strip()


@router.message(chat.MEETING)
async def meeting_command(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    state: Any,
    clock: Clock,
    settings: Any,
    lang: str,
    tz: str,
    t: Any,
    resolve_roles: Any = None,
    client: Any = None,
    directory: Any = None,
) -> None:
    sub, rest = _sub_of(chat.args_of(message, command, settings))
    if sub == "new":
        await start_new(
            message,
            rest,
            session=session,
            state=state,
            clock=clock,
            settings=settings,
            lang=lang,
            tz=tz,
            t=t,
            directory=directory,
        )
        return
    if sub == "list":
        await message.reply(await _list_text(session, message, clock.now(), lang, tz, t, resolve_roles))
        return
    now = clock.now()
    policy = chat.policy_of(settings)
    admin = await chat.is_admin(resolve_roles, message.sender)
    with chat.user_terms(lang, tz, now):
        meeting, rest = await chat.named_meeting(session, message, rest, resolve_roles)
        if sub == "show":
            rows = await service.attendees_of(session, meeting.id)
            await message.reply(notices.render_card(meeting, rows, now))
        elif sub == "move":
            if not rest:
                raise UserFacingError("meeting.ask_when", title=meeting.title)
            when = await off_loop(parsing.parse_when_reply, rest, now=now, tz=tz)
            # Moving is one step (unlike scheduling, no confirm): the organizer already chose this
            # meeting and its people; clashes are shown so they can move it again if needed.
            conflicts = await service.move_conflicts(session, meeting, when.at, policy=policy)
            await service.move_meeting(
                session, meeting.id, message.sender, when.at, policy=policy, clock=clock, is_admin=admin
            )
            text = t("meeting.moved_ok", code=meeting.code, when=format_when(when.at, tz=tz, lang=lang, now=now))
            if conflicts:
                items = "".join(conflict_line(c, t, lang, tz, now) for c in conflicts)
                text += t("meeting.move_conflicts", items=items)
            await message.reply(text)
        elif sub == "place":
            await service.change_place(
                session, meeting.id, message.sender, rest, policy=policy, clock=clock, is_admin=admin
            )
            await message.reply(t("meeting.place_ok", code=meeting.code, place=meeting.place))
        elif sub == "cancel":
            await service.cancel_meeting(session, meeting.id, message.sender, rest, clock=clock, is_admin=admin)
            await message.reply(t("meeting.cancelled_ok", code=meeting.code))
        elif sub == "end":
            _, text = await minutes.end_meeting(session, meeting.id, message.sender, clock=clock, is_admin=admin)
            if message.room_id != meeting.room_id:
                await message.reply(text)
        elif sub == "ics":
            rows = await service.attendees_of(session, meeting.id)
            data = ics.meeting_ics(meeting, rows, now=now, domain=chat.server_of(settings))
            filename = f"{meeting.code}.ics"
            url = await _upload_ics(client, data, filename)
            if url is not None:
                await outbox.enqueue(session, ics.file_content(filename, url, len(data)), room_id=message.room_id)
            else:
                await message.reply(t("meeting.ics", code=meeting.code, file=filename, ics=data.decode()))


async def _upload_ics(client: BotClient, data: bytes, filename: str) -> str | None:
    """Upload the .ics to the homeserver's media repository: its mxc:// URL, or None on failure.

    A failed upload is not the user's mistake and the text fallback still gives them the
    calendar, so it is logged rather than raised.
    """
    try:
        return await client.upload(data, content_type=ics.MIMETYPE, filename=filename)
    except MatrixError:  # refused or unreachable: fall back to the text, never lose the answer
        log.warning("uploading %s failed", filename, exc_info=True)
        return None


@router.message(chat.MEETINGS)
async def list_meetings(
    message: Message,
    session: AsyncSession,
    clock: Clock,
    lang: str,
    tz: str,
    t: Any,
    resolve_roles: Any = None,
) -> None:
    await message.reply(await _list_text(session, message, clock.now(), lang, tz, t, resolve_roles))


async def _list_text(
    session: AsyncSession, message: Message, now: datetime, lang: str, tz: str, t: Any, resolve_roles: Any
) -> str:
    """In a room: those of its meetings the person may see; in a DM: the ones they organize or are invited to."""
    if message.is_dm:
        found = await service.upcoming(session, now=now, user=message.sender)
    else:
        roles = await viewer_roles(resolve_roles, message.sender)
        found = [
            m
            for m in await service.upcoming(session, now=now, room_id=message.room_id)
            if await access.can_see(session, m, message.sender, roles)
        ]
    if not found:
        return str(t("meeting.list_empty"))
    lines = [t("meeting.list_title")]
    for meeting in found:
        row = await service.attendee(session, meeting.id, message.sender)
        answer = "organizer" if meeting.organizer == message.sender else (row.response if row else None)
        mine = t("meeting.list_answer", answer=t(f"meeting.answer.{answer}")) if answer else ""
        when = format_when(meeting.starts_at, tz=tz, lang=lang, now=now, hints=True)
        lines.append(
            t(
                "meeting.list_item",
                code=meeting.code,
                when=when,
                title=meeting.title,
                place=notices.place_of(meeting, lang),
                mine=mine,
            )
        )
    return "\n".join(lines)


# -- sign-in, minutes, actions ---------------------------------------------------------------
@router.message(chat.CHECKIN)
async def checkin(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    clock: Clock,
    settings: Any,
    lang: str,
    tz: str,
    t: Any,
    resolve_roles: Any = None,
) -> None:
    now = clock.now()
    with chat.user_terms(lang, tz, now):
        named, code = await chat.named_meeting(session, message, command.args, resolve_roles)
        if not code:
            raise UserFacingError("meeting.need_checkin_code")
        meeting, _ = await service.check_in(
            session, named.id, message.sender, code.split()[0], policy=chat.policy_of(settings), clock=clock
        )
    time = format_when(now, tz=tz, lang=lang, now=now).rsplit(" ", 1)[-1][-5:]
    await message.reply(t("meeting.checkin_ok", user=message.sender, code=meeting.code, time=time))


@router.message(chat.MINUTES)
async def minutes_command(
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
        meeting, text = await chat.named_meeting(session, message, command.args, resolve_roles)
        if not text:  # `!minutes M3` alone reads the minutes so far (or the final ones)
            await message.reply(await minutes.summary(session, meeting, lang, tz, clock.now()))
            return
        await minutes.add_minute(session, meeting.id, message.sender, text, clock=clock, source="command")
    await message.reply(t("meeting.minute_ok", code=meeting.code))


@router.message(chat.ACTION)
async def action_command(
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
    now = clock.now()
    admin = await chat.is_admin(resolve_roles, message.sender)
    with chat.user_terms(lang, tz, now):
        meeting, rest = await chat.named_meeting(
            session, message, chat.args_of(message, command, settings), resolve_roles
        )
        if directory is not None:  # the owner of an action item must be someone the office knows
            rest = await directory.resolve_text(rest)
        assignee, title, due = await off_loop(parsing.parse_action, rest, now=now, tz=tz)
        result = await minutes.add_action(
            session, meeting.id, message.sender, assignee, title, due, clock=clock, is_admin=admin
        )
    task_code = t("meeting.action_task", code=result.task.code)
    due_text = format_when(due, tz=tz, lang=lang, now=now)
    await message.reply(t("meeting.action_ok", user=assignee, task=title, due=due_text, task_code=task_code))
    await _show_task_card(message, result.task, lang, tz, now)


async def _show_task_card(message: Message, task: Task, lang: str, tz: str, now: datetime) -> None:
    """The supervised task's own card, so that its ✅/❌ and thread work like any task's."""
    await message.answer(tasks.render_card(task, lang, tz, now), ref=tasks.card_ref(task.id))


async def _in_meeting_thread(event: Event, data: dict[str, Any]) -> FilterResult:
    """Plain text in a meeting card's thread while the minutes are open, from someone on the list."""
    session = data.get("session")
    if session is None or not isinstance(event, Message) or event.is_voice or not event.thread_root:
        return False
    if parsed_command(event, data) is not None:
        return False
    meeting = await minutes.meeting_of_thread(session, event.thread_root)
    if meeting is None:
        return False
    settings, clock = data.get("settings"), data.get("clock")
    if clock is None or not minutes.taking_minutes(meeting, chat.policy_of(settings), clock.now()):
        return False
    invited = await service.attendee(session, meeting.id, event.sender) is not None
    if event.sender != meeting.organizer and not invited:
        return False
    return {"minutes_meeting": meeting}


@router.message(_in_meeting_thread)
async def thread_minutes(message: Message, minutes_meeting: Meeting, session: AsyncSession, clock: Clock) -> None:
    await minutes.add_minute(
        session,
        minutes_meeting.id,
        message.sender,
        message.body,
        clock=clock,
        source="thread",
        event_id=message.event_id,
    )
    await message.react("📝")
