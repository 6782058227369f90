"""Chat handlers of supervised tasks (督办): commands, and ✅/❌ on completion and extension notices."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from datetime import time

from sqlalchemy.ext.asyncio import AsyncSession

from bot import CommandObject, Message, ReactionEvent, UserFacingError
from bot.filters import FilterResult
from bot.mentions import text_with_ids, user_ids_in
from bot.offloop import off_loop
from bot.types import Event
from commands.cards import on_card
from commands.tasks import access, parsing, render, service
from commands.tasks.commands import TASK_SUBS
from commands.tasks.models import Task
from commands.tasks.policy import policy_from_settings
from commands.tasks.refs import done_ref, ext_ref, parse_code, parse_ref
from commands.turn import Turn
from commands.visibility import viewer_roles
from notifications.names import names_for
from records import outbox
from records.config import Settings
from records.errors import DomainError
from timeparse import TimeParseError, parse_when

_TASK_ID = re.compile(r"^\s*[Tt]\d+\b")


# Filters read the framework's `data` (values of every kind): a value is checked before use.
def task_id_first(event: Event, data: dict[str, object]) -> FilterResult:
    """`!done`, `!accept`… are common words: take them only with a task id (T7)."""
    command = data.get("command")
    return isinstance(command, CommandObject) and bool(_TASK_ID.match(command.args))


def task_notice(ref: str) -> dict[str, int | str] | None:
    """A completion notice or an extension request: which task, which notice."""
    parsed = parse_ref(ref)
    if parsed is None or parsed[1] not in ("done", "ext"):
        return None
    return {"task_id": parsed[0], "notice": parsed[1]}


# A reaction on a completion notice or an extension request.
on_task_notice = on_card(task_notice)


def _split_id(command: CommandObject) -> tuple[int, str]:
    code, _, rest = command.args.strip().partition(" ")
    if not code:
        raise UserFacingError("task.need_code")
    return parse_code(code), rest.strip()


async def _visible_task(turn: Turn, task_id: int, user: str) -> Task:
    """The task a command names, for `user`: every task command, read or write, loads it here.

    Someone the one rule (access.can_see) does not admit is told it does not exist, before the
    action's own rule ("not yours", "only the assigner") could confirm that it is there.
    """
    task = await service.get_task(turn.session, task_id)
    return await access.require_visible(turn.session, task, user, await viewer_roles(turn.resolve_roles, user))


async def _task_named(message: Message, command: CommandObject, turn: Turn) -> tuple[Task, str]:
    """The task named first in the arguments (T7), and the rest of them."""
    task_id, rest = _split_id(command)
    return await _visible_task(turn, task_id, message.sender), rest


def _end_of_day(settings: Settings) -> time:
    """The office's end of the working day (`tasks.end_of_day`): what a bare-date deadline means."""
    return policy_from_settings(settings).end_of_day_time


async def _show(message: Message, turn: Turn, task: Task) -> None:
    """`!task T7`: the card as it stands (status, progress, deadline), then the dates and history."""
    notes = await service.list_notes(turn.session, task.id)
    now = turn.clock.now()
    end_of_day = _end_of_day(turn.settings)
    card = render.render_card(task, turn.lang, turn.tz, now, end_of_day=end_of_day, latest=render.latest_note(notes))
    await message.reply(card + "\n" + render.render_history(task, notes, turn.lang, turn.tz, now))


async def task(message: Message, command: CommandObject, turn: Turn) -> None:
    """`!task`: a sub-command (cancel), a task id alone (show it), or else a new task."""
    act = SUBCOMMANDS.get(command.sub or "")
    if act is not None:
        await act(message, command, turn)
        return
    if _TASK_ID.match(command.args) and len(command.argv) == 1:
        await _show(message, turn, await _visible_task(turn, parse_code(command.argv[0]), message.sender))
        return
    await _new_task(message, command, turn)


async def _new_task(message: Message, command: CommandObject, turn: Turn) -> None:
    now = turn.clock.now()
    full = turn.full_text(message)
    # Everything after the command word, with mentions as full Matrix IDs (pills included).
    args = re.sub(rf"^.*?{re.escape(command.invoked)}\s*", "", full, count=1, flags=re.S)
    # The lead and co-owners must be people the office knows.
    args = await turn.directory.resolve_text(args)
    end_of_day = _end_of_day(turn.settings)
    spec = await off_loop(parsing.parse_new_task, parsing.strip_new(args), now=now, tz=turn.tz, end_of_day=end_of_day)
    made = await service.create_task(
        turn.session,
        assigner=message.sender,
        lead=spec.lead,
        co_owners=spec.co_owners,
        title=spec.title,
        due_at=spec.due_at,
        source=spec.source,
        priority=spec.priority,
        room_id=message.room_id,
        clock=turn.clock,
    )
    card = render.render_card(made, turn.lang, turn.tz, now, end_of_day=end_of_day)
    if spec.holidays_unknown is not None:
        card += "\n" + turn.t("time.no_holiday_data", year=spec.holidays_unknown)
    names = await names_for(turn.session, card)  # people by name, pills in the HTML
    await message.reply(names.plain(card), names.html(card), ref=service.card_ref(made.id))


async def _cancel_task(message: Message, command: CommandObject, turn: Turn) -> None:
    """`!task cancel T7 [reason]` / `!督办 撤销 T7 [理由]`: the assigner withdraws a task."""
    rest = command.args.strip().split(None, 1)[1:]
    code, _, reason = (rest[0] if rest else "").partition(" ")
    if not code:
        raise UserFacingError("task.need_code")
    found = await _visible_task(turn, parse_code(code), message.sender)
    found = await service.cancel_task(turn.session, found.id, message.sender, reason.strip(), turn.clock)
    await message.reply(turn.t("task.cancel_done", code=found.code, title=found.title))


# One handler per sub-command of commands.TASK (besides `new`, the default), by canonical name.
SUBCOMMANDS: dict[str, Callable[[Message, CommandObject, Turn], Awaitable[None]]] = {
    "new": _new_task,
    "cancel": _cancel_task,
}
assert set(SUBCOMMANDS) == {sub.name for sub in TASK_SUBS.subs}


async def progress(message: Message, command: CommandObject, turn: Turn) -> None:
    found, rest = await _task_named(message, command, turn)
    percent, note = parsing.parse_percent(rest)
    found = await service.report_progress(turn.session, found.id, message.sender, percent, note, turn.clock)
    t = turn.t
    await message.reply(t("task.progress_set", code=found.code, percent=percent, note=note or t("task.no_note")))


async def _post_to_assigner(session: AsyncSession, message: Message, found: Task, body: str, ref: str) -> None:
    """A notice in the room that mentions the assigner, so that their client tells them."""
    names = await names_for(session, body)
    content = outbox.text_content(names.plain(body), names.html(body))
    content["m.mentions"] = {"user_ids": [found.assigner]}
    await message.outbound.send(message.room_id, content, ref=ref)


async def done(message: Message, command: CommandObject, turn: Turn) -> None:
    found, note = await _task_named(message, command, turn)
    found = await service.submit_done(turn.session, found.id, message.sender, note, turn.clock)
    t = turn.t
    body = t(
        "task.submitted", code=found.code, title=found.title, note=note or t("task.no_note"), assigner=found.assigner
    )
    await _post_to_assigner(turn.session, message, found, body, done_ref(found.id))


async def _accept(turn: Turn, task_id: int, user: str, note: str) -> str:
    found = await service.accept(turn.session, task_id, user, note, turn.clock)
    return turn.t("task.accepted", code=found.code, title=found.title, user=user)


async def accept(message: Message, command: CommandObject, turn: Turn) -> None:
    found, note = await _task_named(message, command, turn)
    await message.reply(await _accept(turn, found.id, message.sender, note))


async def sendback(message: Message, command: CommandObject, turn: Turn) -> None:
    found, reason = await _task_named(message, command, turn)
    if not reason:
        raise UserFacingError("task.need_reason")
    found = await service.send_back(turn.session, found.id, message.sender, reason, turn.clock)
    params = render.when_params(found, turn.lang, turn.tz, turn.clock.now())
    await message.reply(turn.t("task.sent_back", reason=reason, **params))


async def extend(message: Message, command: CommandObject, turn: Turn) -> None:
    found, rest = await _task_named(message, command, turn)
    now = turn.clock.now()
    end_of_day = _end_of_day(turn.settings)
    try:
        # A new deadline reads like the first one: "延期 T7 周五" is Friday at the end of the day.
        when = await off_loop(parse_when, rest, now=now, tz=turn.tz, options=parsing.deadline_options(end_of_day))
    except TimeParseError as exc:
        raise DomainError(exc.key, **exc.params) from None
    found = await service.request_extension(turn.session, found.id, message.sender, when.at, when.rest, turn.clock)
    lang, tz = turn.lang, turn.tz
    body = turn.t(
        "task.ext_requested",
        user=message.sender,
        due=render.format_due(found.due_at, tz=tz, lang=lang, now=now, end_of_day=end_of_day),
        reason=when.rest,
        assigner=found.assigner,
        code=found.code,
        title=found.title,
        when=render.format_due(when.at, tz=tz, lang=lang, now=now, end_of_day=end_of_day),
    )
    await _post_to_assigner(turn.session, message, found, body, ext_ref(found.id))


async def _decide(turn: Turn, task_id: int, user: str, approve: bool, reason: str) -> str:
    found = await service.decide_extension(turn.session, task_id, user, approve, reason, turn.clock)
    params = render.when_params(found, turn.lang, turn.tz, turn.clock.now())
    if approve:
        return turn.t("task.ext_approved", **params)
    return turn.t("task.ext_refused", reason=reason or turn.t("task.no_reason"), **params)


async def approve_ext(message: Message, command: CommandObject, turn: Turn) -> None:
    found, reason = await _task_named(message, command, turn)
    await message.reply(await _decide(turn, found.id, message.sender, True, reason))


async def refuse_ext(message: Message, command: CommandObject, turn: Turn) -> None:
    found, reason = await _task_named(message, command, turn)
    await message.reply(await _decide(turn, found.id, message.sender, False, reason))


# A reaction is on a notice the reactor reads (posted in their room), and names no id of its
# own: it is answered about that task ("only the assigner"), which tells them nothing new.
async def decide_by_reaction(reaction: ReactionEvent, task_id: int, notice: str, turn: Turn) -> None:
    yes = reaction.key.replace("\ufe0f", "") == "✅"
    if notice == "done":
        if not yes:
            return  # 退办 needs a reason: it is a command, not a reaction
        text = await _accept(turn, task_id, reaction.sender, "")
    else:
        text = await _decide(turn, task_id, reaction.sender, yes, "")
    await reaction.outbound.send(reaction.room_id, outbox.text_content(text))


# The lists of `!tasks` by sub-command (TASKS_SUBS): the tasks, and the key of their heading.
_Listed = tuple[Sequence[Task], str]


async def _mine(turn: Turn, user: str) -> _Listed:
    return await service.list_mine(turn.session, user), "task.list_mine"


async def _overdue(turn: Turn, user: str) -> _Listed:
    return await service.list_overdue(turn.session, user, turn.clock.now()), "task.list_overdue"


async def _done(turn: Turn, user: str) -> _Listed:
    return await service.list_finished(turn.session, user), "task.list_finished"


async def _all(turn: Turn, user: str) -> _Listed:
    return await service.list_open(turn.session), "task.list_visible"


LISTS: dict[str, Callable[[Turn, str], Awaitable[_Listed]]] = {
    "mine": _mine,
    "overdue": _overdue,
    "done": _done,
    "all": _all,
}


async def list_tasks(message: Message, command: CommandObject, turn: Turn) -> None:
    t, session, now = turn.t, turn.session, turn.clock.now()
    who = user_ids_in(text_with_ids(command.args, None, turn.settings.matrix.server_name))
    viewer_roles = set(await turn.roles.roles_of(session, message.sender))
    viewer = message.sender
    if who:
        see_all = bool(access.TASK_OVERSIGHT & viewer_roles)
        found: Sequence[Task] = await service.list_of(session, message.sender, who[0], see_all=see_all)
        title = t("task.list_of", user=who[0])
        viewer = who[0]
    else:
        found, key = await LISTS[command.sub or "mine"](turn, message.sender)
        title = t(key)
    # Every list passes through the one rule, whatever narrowed it first.
    found = [one for one in found if await access.can_see(session, one, message.sender, viewer_roles)]
    # Accepted work leaves the default list; say where it went, so that it does not seem lost.
    hint = ""
    if not command.args.strip() and await service.list_finished(session, message.sender, limit=1):
        hint = "\n" + t("task.list_finished_hint")
    if not found:
        await message.reply(t("task.list_empty") + hint)
        return
    lines = [title, *(render.task_line(one, viewer, t, turn.lang, turn.tz, now) for one in found)]
    await message.reply("\n".join(lines) + hint)
