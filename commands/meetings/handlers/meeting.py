"""`!meeting` and its sub-commands (show, move, place, cancel, end, ics), and `!meetings`.

`!meeting <title> …` with no sub-command word schedules (the common case in Chinese:
`!会议 安全生产工作会议 周五 9:30 在 301 @a`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from bot import CommandObject, MatrixError, Message, UserFacingError
from bot.offloop import off_loop
from commands.meetings import access, minutes, parsing, render, service
from commands.meetings.commands import MEETING_SUBS
from commands.meetings.conflicts import move_conflicts
from commands.meetings.handlers.arguments import args_of, is_admin, named_meeting, policy_of, user_terms
from commands.meetings.handlers.schedule import start_new
from commands.meetings.models import Meeting
from commands.replies import reply_named
from commands.turn import Turn
from records import outbox
from timeparse import format_when

log = logging.getLogger(__name__)


def _sub_of(command: CommandObject, args: str) -> tuple[str, str]:
    """The sub-command and its arguments, read from `args` (the arguments with mentions as full IDs).

    The sub-command table (commands.MEETING_SUBS) has read the first word already; a near miss
    never reaches here, so no sub-command word is a record id alone (show) or a title (new).
    """
    word, _, rest = args.partition(" ")
    if MEETING_SUBS.find(word) is not None:
        return command.sub or "new", rest.strip()
    if command.sub is None and len(args.split()) == 1 and word[:1] in "Mm" and word[1:].isdigit():
        return "show", word
    return "new", args


async def meeting_command(message: Message, command: CommandObject, turn: Turn) -> None:
    sub, rest = _sub_of(command, args_of(message, command, turn))
    if sub == "new":
        await start_new(message, rest, turn)
        return
    if sub == "list":
        await message.reply(await _list_text(message, turn))
        return
    with user_terms(turn):
        meeting, rest = await named_meeting(message, rest, turn)
        await SUBCOMMANDS[sub](message, meeting, rest, turn)


async def _show(message: Message, meeting: Meeting, rest: str, turn: Turn) -> None:
    rows = await service.attendees_of(turn.session, meeting.id)
    await message.reply(render.card(meeting, rows, turn.clock.now()))


async def _move(message: Message, meeting: Meeting, rest: str, turn: Turn) -> None:
    if not rest:
        raise UserFacingError("meeting.ask_when", title=meeting.title)
    now, policy = turn.clock.now(), policy_of(turn)
    when = await off_loop(parsing.parse_when_reply, rest, now=now, tz=turn.tz)
    # Moving is one step (unlike scheduling, no confirm): the organizer already chose this
    # meeting and its people; clashes are shown so they can move it again if needed.
    conflicts = await move_conflicts(turn.session, meeting, when.at, policy=policy)
    admin = await is_admin(turn, message.sender)
    await service.move_meeting(
        turn.session, meeting.id, message.sender, when.at, policy=policy, clock=turn.clock, is_admin=admin
    )
    t = turn.t
    text = t("meeting.moved_ok", code=meeting.code, when=format_when(when.at, tz=turn.tz, lang=turn.lang, now=now))
    if conflicts:
        items = "".join(render.conflict_line(c, t, turn.lang, turn.tz, now) for c in conflicts)
        text += t("meeting.move_conflicts", items=items)
    await reply_named(message, turn.session, text)  # the people who clash, by name


async def _place(message: Message, meeting: Meeting, rest: str, turn: Turn) -> None:
    admin = await is_admin(turn, message.sender)
    await service.change_place(
        turn.session, meeting.id, message.sender, rest, policy=policy_of(turn), clock=turn.clock, is_admin=admin
    )
    await message.reply(turn.t("meeting.place_ok", code=meeting.code, place=meeting.place))


async def _cancel(message: Message, meeting: Meeting, rest: str, turn: Turn) -> None:
    admin = await is_admin(turn, message.sender)
    await service.cancel_meeting(turn.session, meeting.id, message.sender, rest, clock=turn.clock, is_admin=admin)
    await message.reply(turn.t("meeting.cancelled_ok", code=meeting.code))


async def _end(message: Message, meeting: Meeting, rest: str, turn: Turn) -> None:
    admin = await is_admin(turn, message.sender)
    _, text = await minutes.end_meeting(turn.session, meeting.id, message.sender, clock=turn.clock, is_admin=admin)
    if message.room_id != meeting.room_id:  # in its room, the minutes posted there are the answer
        await message.reply(text)


async def _ics(message: Message, meeting: Meeting, rest: str, turn: Turn) -> None:
    rows = await service.attendees_of(turn.session, meeting.id)
    data = render.meeting_ics(meeting, rows, now=turn.clock.now(), domain=turn.settings.matrix.server_name)
    filename = f"{meeting.code}.ics"
    url = await _upload_ics(turn, data, filename)
    if url is not None:
        await outbox.enqueue(turn.session, render.file_content(filename, url, len(data)), room_id=message.room_id)
    else:
        await message.reply(turn.t("meeting.ics", code=meeting.code, file=filename, ics=data.decode()))


async def _upload_ics(turn: Turn, data: bytes, filename: str) -> str | None:
    """Upload the .ics to the homeserver's media repository: its mxc:// URL, or None on failure.

    A failed upload is not the user's mistake and the text fallback still gives them the
    calendar, so it is logged rather than raised.
    """
    try:
        return await turn.client.upload(data, content_type=render.MIMETYPE, filename=filename)
    except MatrixError:  # refused or unreachable: fall back to the text, never lose the answer
        log.warning("uploading %s failed", filename, exc_info=True)
        return None


# One handler per sub-command of commands.MEETING that names a meeting, by its canonical name
# ("new" and "list" name none and are answered before the meeting is loaded).
SUBCOMMANDS: dict[str, Callable[[Message, Meeting, str, Turn], Awaitable[None]]] = {
    "show": _show,
    "move": _move,
    "place": _place,
    "cancel": _cancel,
    "end": _end,
    "ics": _ics,
}


async def list_meetings(message: Message, turn: Turn) -> None:
    await message.reply(await _list_text(message, turn))


async def _list_text(message: Message, turn: Turn) -> str:
    """In a room: those of its meetings the person may see; in a DM: the ones they organize or are invited to."""
    session, now, t = turn.session, turn.clock.now(), turn.t
    if message.is_dm:
        found = await service.upcoming(session, now=now, user=message.sender)
    else:
        roles = await turn.resolve_roles(message.sender)
        found = [
            m
            for m in await service.upcoming(session, now=now, room_id=message.room_id)
            if await access.can_see(session, m, message.sender, roles)
        ]
    if not found:
        return t("meeting.list_empty")
    lines = [t("meeting.list_title")]
    for meeting in found:
        row = await service.attendee(session, meeting.id, message.sender)
        answer = "organizer" if meeting.organizer == message.sender else (row.response if row else None)
        lines.append(render.list_line(meeting, answer, t, turn.lang, turn.tz, now))
    return "\n".join(lines)
