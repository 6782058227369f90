"""Chat handlers of supervised tasks (督办): commands, and ✅/❌ on completion and extension notices."""

from __future__ import annotations

import re
from datetime import datetime, time
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot import Command, CommandObject, Message, Reaction, ReactionEvent, Router, UserFacingError
from bot.filters import FilterResult
from bot.grammar import Sub, SubTable
from bot.mentions import text_with_ids, user_ids_in
from bot.offloop import off_loop
from bot.types import Event
from commands.tasks import access, parsing, service
from commands.tasks.models import Task
from commands.tasks.notices import mention_html
from commands.visibility import viewer_roles
from records import outbox
from records.clock import Clock
from records.errors import DomainError
from timeparse import TimeParseError, format_when, parse_when

router = Router("tasks.supervision")

_G = "tasks"
# Text with no sub-command word is a new task (`!督办 整理会议纪要 @chu 截止 周五`); the words of
# `new` are the ones parsing.strip_new takes off.
TASK_SUBS = SubTable(
    (Sub("new", ("add", "新建", "新增")), Sub("cancel", ("withdraw", "撤销", "撤回"))),
    default="new",
)
TASK = Command(
    "task",
    aliases=("督办",),
    usage={
        "zh": "!督办 <事项> @牵头人 [@协办…] 截止 <时间> [来源 M3] [紧急]\n!督办 T7（查看）\n!督办 撤销 T7 [理由]",
        "en": "!task new <title> @lead [@co…] by <when> [from M3] [!high]\n!task T7 (show)\n!task cancel T7 [reason]",
    },
    summary={"zh": "交办督办事项", "en": "Assign a supervised task"},
    example="!督办 整理会议纪要 @chu 截止 周五前 来源 M3",
    group=_G,
    subcommands=TASK_SUBS,
)
PROGRESS = Command(
    "progress",
    aliases=("进展", "进度"),
    usage={"zh": "!进展 T7 60% <说明>", "en": "!progress T7 60% <note>"},
    summary={"zh": "报告督办进度", "en": "Report progress on a task"},
    example="!progress T7 60% 初稿已完成",
    group=_G,
)
DONE = Command(
    "done",
    aliases=("完成",),
    usage={"zh": "!完成 T7 <说明>", "en": "!done T7 <note>"},
    summary={"zh": "提交完成，请交办人办结", "en": "Submit a task as done for acceptance"},
    group=_G,
)
ACCEPT = Command(
    "accept",
    aliases=("办结",),
    usage={"zh": "!办结 T7（或在完成通知上回应 ✅）", "en": "!accept T7 (or react ✅ on the completion notice)"},
    summary={"zh": "交办人确认办结", "en": "Accept a completed task (assigner)"},
    group=_G,
)
SENDBACK = Command(
    "sendback",
    aliases=("退办",),
    usage={"zh": "!退办 T7 <理由>", "en": "!sendback T7 <reason>"},
    summary={"zh": "交办人退回重办", "en": "Send a completed task back (assigner)"},
    group=_G,
)
EXTEND = Command(
    "extend",
    aliases=("延期", "延期申请"),
    usage={"zh": "!延期 T7 <新期限> <理由>", "en": "!extend T7 <when> <reason>"},
    summary={"zh": "申请延期", "en": "Ask the assigner for more time"},
    example="!延期 T7 下周一 需要会签",
    group=_G,
)
APPROVE_EXT = Command(
    "approve-ext",
    aliases=("同意延期",),
    usage={"zh": "!同意延期 T7（或在申请上回应 ✅）", "en": "!approve-ext T7 (or react ✅ on the request)"},
    summary={"zh": "同意延期申请", "en": "Approve an extension request (assigner)"},
    group=_G,
)
REFUSE_EXT = Command(
    "refuse-ext",
    aliases=("驳回延期", "不同意延期"),
    usage={"zh": "!驳回延期 T7 <理由>（或在申请上回应 ❌）", "en": "!refuse-ext T7 <reason> (or react ❌)"},
    summary={"zh": "驳回延期申请", "en": "Refuse an extension request (assigner)"},
    group=_G,
)
TASKS = Command(
    "tasks",
    aliases=("督办列表", "我的督办"),
    usage={"zh": "!督办列表 [超期|已办结|全部|@某人]", "en": "!tasks [overdue|done|all|@someone]"},
    summary={"zh": "查看督办事项（按期限）", "en": "List tasks by deadline"},
    group=_G,
)

_TASK_ID = re.compile(r"^\s*[Tt]\d+\b")
_OVERDUE = {"overdue", "late", "超期", "逾期"}
_CANCEL = TASK_SUBS.words_of("cancel")
_ALL = {"all", "全部", "所有"}
_FINISHED = {"done", "closed", "accepted", "finished", "已办结", "办结", "已完成"}


def _task_id_first(event: Event, data: dict[str, Any]) -> FilterResult:
    """`!done`, `!accept`… are common words: take them only with a task id (T7)."""
    command: CommandObject | None = data.get("command")
    return command is not None and bool(_TASK_ID.match(command.args))


async def _on_task_notice(event: Event, data: dict[str, Any]) -> FilterResult:
    session = data.get("session")
    if not isinstance(event, ReactionEvent) or session is None:
        return False
    parsed = service.parse_ref(await outbox.ref_for_event(session, event.reacts_to) or "")
    if parsed is None or parsed[1] not in ("done", "ext"):
        return False
    return {"task_id": parsed[0], "notice": parsed[1]}


def _split_id(command: CommandObject) -> tuple[int, str]:
    code, _, rest = command.args.strip().partition(" ")
    if not code:
        raise UserFacingError("task.need_code")
    return service.parse_code(code), rest.strip()


async def _visible_task(session: AsyncSession, task_id: int, user: str, resolve_roles: Any) -> Task:
    """The task a command names, for `user`: every task command, read or write, loads it here.

    Someone the one rule (access.can_see) does not admit is told it does not exist, before the
    action's own rule ("not yours", "only the assigner") could confirm that it is there.
    """
    task = await service.get_task(session, task_id)
    return await access.require_visible(session, task, user, await viewer_roles(resolve_roles, user))


async def _task_named(
    message: Message, command: CommandObject, session: AsyncSession, resolve_roles: Any
) -> tuple[Task, str]:
    """The task named first in the arguments (T7), and the rest of them."""
    task_id, rest = _split_id(command)
    return await _visible_task(session, task_id, message.sender, resolve_roles), rest


def _server_of(settings: Any) -> str:
    return str(settings.matrix.user_id).split(":", 1)[-1]


def _end_of_day(settings: Any) -> time:
    """The office's end of the working day (`tasks.end_of_day`): what a bare-date deadline means."""
    hour, minute = (int(part) for part in str(settings.tasks.end_of_day).split(":"))
    return time(hour, minute)


async def _show(
    message: Message, session: AsyncSession, task: Task, settings: Any, lang: str, tz: str, now: datetime
) -> None:
    """`!task T7`: the card as it stands (status, progress, deadline), then the dates and history."""
    notes = await service.list_notes(session, task.id)
    end_of_day = _end_of_day(settings)
    card = service.render_card(task, lang, tz, now, end_of_day=end_of_day, latest=service.latest_note(notes))
    await message.reply(card + "\n" + service.render_history(task, notes, lang, tz, now))


def _in_lang(task: Task, lang: str, tz: str, now: datetime) -> dict[str, Any]:
    return {"code": task.code, "title": task.title, "when": format_when(task.due_at, tz=tz, lang=lang, now=now)}


@router.message(TASK)
async def new_task(
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
    if command.argv and command.argv[0].lower() in _CANCEL:
        await _cancel_task(message, command, session, clock, t, resolve_roles)
        return
    if _TASK_ID.match(command.args) and len(command.argv) == 1:
        task = await _visible_task(session, service.parse_code(command.argv[0]), message.sender, resolve_roles)
        await _show(message, session, task, settings, lang, tz, now)
        return
    full = text_with_ids(message.body, message.html, _server_of(settings))
    # Everything after the command word, with mentions as full Matrix IDs (pills included).
    args = re.sub(rf"^.*?{re.escape(command.invoked)}\s*", "", full, count=1, flags=re.S)
    if directory is not None:  # the lead and co-owners must be people the office knows
        args = await directory.resolve_text(args)
    end_of_day = _end_of_day(settings)
    spec = await off_loop(parsing.parse_new_task, parsing.strip_new(args), now=now, tz=tz, end_of_day=end_of_day)
    task = await service.create_task(
        session,
        assigner=message.sender,
        lead=spec.lead,
        co_owners=spec.co_owners,
        title=spec.title,
        due_at=spec.due_at,
        source=spec.source,
        priority=spec.priority,
        room_id=message.room_id,
        clock=clock,
    )
    card = service.render_card(task, lang, tz, now, end_of_day=end_of_day)
    if spec.holidays_unknown is not None:
        card += "\n" + t("time.no_holiday_data", year=spec.holidays_unknown)
    await message.reply(card, ref=service.card_ref(task.id))


async def _cancel_task(
    message: Message, command: CommandObject, session: AsyncSession, clock: Clock, t: Any, resolve_roles: Any
) -> None:
    """`!task cancel T7 [reason]` / `!督办 撤销 T7 [理由]`: the assigner withdraws a task."""
    rest = command.args.strip().split(None, 1)[1:]
    code, _, reason = (rest[0] if rest else "").partition(" ")
    if not code:
        raise UserFacingError("task.need_code")
    task = await _visible_task(session, service.parse_code(code), message.sender, resolve_roles)
    task = await service.cancel_task(session, task.id, message.sender, reason.strip(), clock)
    await message.reply(t("task.cancel_done", code=task.code, title=task.title))


@router.message(PROGRESS, _task_id_first)
async def progress(
    message: Message, command: CommandObject, session: AsyncSession, clock: Clock, t: Any, resolve_roles: Any = None
) -> None:
    task, rest = await _task_named(message, command, session, resolve_roles)
    percent, note = parsing.parse_percent(rest)
    task = await service.report_progress(session, task.id, message.sender, percent, note, clock)
    await message.reply(t("task.progress_set", code=task.code, percent=percent, note=note or t("task.no_note")))


@router.message(DONE, _task_id_first)
async def done(
    message: Message, command: CommandObject, session: AsyncSession, clock: Clock, t: Any, resolve_roles: Any = None
) -> None:
    task, note = await _task_named(message, command, session, resolve_roles)
    task = await service.submit_done(session, task.id, message.sender, note, clock)
    body = t("task.submitted", code=task.code, title=task.title, note=note or t("task.no_note"), assigner=task.assigner)
    content = outbox.text_content(body, body.replace(task.assigner, mention_html(task.assigner)).replace("\n", "<br>"))
    content["m.mentions"] = {"user_ids": [task.assigner]}
    await message.outbound.send(message.room_id, content, ref=service.done_ref(task.id))


async def _accept(session: AsyncSession, task_id: int, user: str, note: str, clock: Clock, t: Any) -> str:
    task = await service.accept(session, task_id, user, note, clock)
    return str(t("task.accepted", code=task.code, title=task.title, user=user))


@router.message(ACCEPT, _task_id_first)
async def accept(
    message: Message, command: CommandObject, session: AsyncSession, clock: Clock, t: Any, resolve_roles: Any = None
) -> None:
    task, note = await _task_named(message, command, session, resolve_roles)
    await message.reply(await _accept(session, task.id, message.sender, note, clock, t))


@router.message(SENDBACK, _task_id_first)
async def sendback(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    clock: Clock,
    t: Any,
    lang: str,
    tz: str,
    resolve_roles: Any = None,
) -> None:
    task, reason = await _task_named(message, command, session, resolve_roles)
    if not reason:
        raise UserFacingError("task.need_reason")
    task = await service.send_back(session, task.id, message.sender, reason, clock)
    await message.reply(t("task.sent_back", reason=reason, **_in_lang(task, lang, tz, clock.now())))


@router.message(EXTEND, _task_id_first)
async def extend(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    clock: Clock,
    t: Any,
    settings: Any,
    lang: str,
    tz: str,
    resolve_roles: Any = None,
) -> None:
    task, rest = await _task_named(message, command, session, resolve_roles)
    now = clock.now()
    end_of_day = _end_of_day(settings)
    try:
        # A new deadline reads like the first one: "延期 T7 周五" is Friday at the end of the day.
        when = await off_loop(parse_when, rest, now=now, tz=tz, options=parsing.deadline_options(end_of_day))
    except TimeParseError as exc:
        raise DomainError(exc.key, **exc.params) from None
    task = await service.request_extension(session, task.id, message.sender, when.at, when.rest, clock)
    body = t(
        "task.ext_requested",
        user=message.sender,
        due=service.format_due(task.due_at, tz=tz, lang=lang, now=now, end_of_day=end_of_day),
        reason=when.rest,
        assigner=task.assigner,
        code=task.code,
        title=task.title,
        when=service.format_due(when.at, tz=tz, lang=lang, now=now, end_of_day=end_of_day),
    )
    content = outbox.text_content(body, body.replace(task.assigner, mention_html(task.assigner)).replace("\n", "<br>"))
    content["m.mentions"] = {"user_ids": [task.assigner]}
    await message.outbound.send(message.room_id, content, ref=service.ext_ref(task.id))


async def _decide(
    session: AsyncSession, task_id: int, user: str, approve: bool, reason: str, clock: Clock, t: Any, lang: str, tz: str
) -> str:
    task = await service.decide_extension(session, task_id, user, approve, reason, clock)
    params = _in_lang(task, lang, tz, clock.now())
    if approve:
        return str(t("task.ext_approved", **params))
    return str(t("task.ext_refused", reason=reason or t("task.no_reason"), **params))


@router.message(APPROVE_EXT, _task_id_first)
async def approve_ext(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    clock: Clock,
    t: Any,
    lang: str,
    tz: str,
    resolve_roles: Any = None,
) -> None:
    task, reason = await _task_named(message, command, session, resolve_roles)
    await message.reply(await _decide(session, task.id, message.sender, True, reason, clock, t, lang, tz))


@router.message(REFUSE_EXT, _task_id_first)
async def refuse_ext(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    clock: Clock,
    t: Any,
    lang: str,
    tz: str,
    resolve_roles: Any = None,
) -> None:
    task, reason = await _task_named(message, command, session, resolve_roles)
    await message.reply(await _decide(session, task.id, message.sender, False, reason, clock, t, lang, tz))


# A reaction is on a notice the reactor reads (posted in their room), and names no id of its
# own: it is answered about that task ("only the assigner"), which tells them nothing new.
@router.reaction(Reaction("✅", "❌"), _on_task_notice)
async def decide_by_reaction(
    reaction: ReactionEvent,
    task_id: int,
    notice: str,
    session: AsyncSession,
    clock: Clock,
    t: Any,
    lang: str,
    tz: str,
) -> None:
    yes = reaction.key.replace("\ufe0f", "") == "✅"
    if notice == "done":
        if not yes:
            return  # 退办 needs a reason: it is a command, not a reaction
        text = await _accept(session, task_id, reaction.sender, "", clock, t)
    else:
        text = await _decide(session, task_id, reaction.sender, yes, "", clock, t, lang, tz)
    await reaction.outbound.send(reaction.room_id, outbox.text_content(text))


def _status_of(task: Task, lang: str, tz: str, now: datetime) -> str:
    status = service.describe_status(task, lang)
    if task.status == "accepted" and task.accepted_at is not None:
        status += " " + format_when(task.accepted_at, tz=tz, lang=lang, now=now)
    return status


def _list_line(task: Task, user: str, t: Any, lang: str, tz: str, now: datetime) -> str:
    role = service.role_of(task, user)
    overdue = task.status == "open" and task.due_at < now
    return str(
        t(
            "task.list_item",
            flag=("🔴" if overdue else "") + ("❗" if task.priority == "high" else ""),
            role=t(f"task.role_{role}") if role else "",
            percent=task.progress,
            status=_status_of(task, lang, tz, now),
            **_in_lang(task, lang, tz, now),
        )
    )


@router.message(TASKS)
async def list_tasks(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    clock: Clock,
    settings: Any,
    roles: Any,
    t: Any,
    lang: str,
    tz: str,
) -> None:
    now = clock.now()
    who = user_ids_in(text_with_ids(command.args, None, _server_of(settings)))
    viewer_roles = set(await roles.roles_of(session, message.sender))
    if who:
        see_all = bool(access.TASK_OVERSIGHT & viewer_roles)
        found = await service.list_of(session, message.sender, who[0], see_all=see_all)
        title = t("task.list_of", user=who[0])
        viewer = who[0]
    elif command.args.strip().lower() in _ALL:
        found = await service.list_open(session)
        title, viewer = t("task.list_visible"), message.sender
    elif command.args.strip().lower() in _OVERDUE:
        found = await service.list_overdue(session, message.sender, now)
        title, viewer = t("task.list_overdue"), message.sender
    elif command.args.strip().lower() in _FINISHED:
        found = await service.list_finished(session, message.sender)
        title, viewer = t("task.list_finished"), message.sender
    else:
        found = await service.list_mine(session, message.sender)
        title, viewer = t("task.list_mine"), message.sender
    # Every list passes through the one rule, whatever narrowed it first.
    found = [task for task in found if await access.can_see(session, task, message.sender, viewer_roles)]
    # Accepted work leaves the default list; say where it went, so that it does not seem lost.
    hint = ""
    if not command.args.strip() and await service.list_finished(session, message.sender, limit=1):
        hint = "\n" + t("task.list_finished_hint")
    if not found:
        await message.reply(t("task.list_empty") + hint)
        return
    lines = [title, *(_list_line(task, viewer, t, lang, tz, now) for task in found)]
    await message.reply("\n".join(lines) + hint)
