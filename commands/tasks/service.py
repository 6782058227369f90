"""Supervised tasks (督办): assign, report progress, submit, accept (办结) or send back (退办),
ask for more time (延期申请), withdraw (撤销); and the reads the chat side and other features make.

Other features create tasks through `create_task` (a meeting's action items, an approval's
follow-up, an incident's assignments) and name its card with `card_ref` and `render_card`:
this module is the feature's front door for them. Every change is audited in the caller's
transaction. The timers a task starts live in commands.tasks.timers, how it reads in
commands.tasks.render.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from commands.tasks.models import Task, TaskNote
from commands.tasks.notices import prefs, refresh_card, tell, tell_all
from commands.tasks.policy import load_policy
from commands.tasks.refs import card_ref, dm_ref, done_ref, ext_ref, parse_code, parse_ref, timer_prefix
from commands.tasks.render import render_card
from commands.tasks.texts import render
from commands.tasks.timers import ensure_digest, schedule_deadline
from commands.visibility import json_names
from records import audit, timers
from records.clock import Clock
from records.errors import DomainError, NotAllowed, NotFound
from timeparse import format_when

PRIORITIES = ("normal", "high")


# -- reading -----------------------------------------------------------------------------
async def get_task(session: AsyncSession, task_id: int) -> Task:
    task = await session.get(Task, task_id)
    if task is None or task.status == "cancelled":
        raise NotFound("task.not_found", code=f"T{task_id}")
    return task


def may_act(task: Task, user: str) -> bool:
    return user == task.assigner or user in task.owners


def _require_party(task: Task, user: str) -> None:
    if not may_act(task, user):
        raise NotAllowed("task.not_yours", code=task.code)


def _require_owner(task: Task, user: str) -> None:
    _require_party(task, user)
    if user not in task.owners:
        raise NotAllowed("task.owners_only", code=task.code)


def _require_assigner(task: Task, user: str) -> None:
    _require_party(task, user)
    if user != task.assigner:
        raise NotAllowed("task.assigner_only", code=task.code, assigner=task.assigner)


def _require_open(task: Task) -> None:
    if task.status == "accepted":
        raise DomainError("task.closed", code=task.code)
    if task.status == "submitted":
        raise DomainError("task.not_open", code=task.code)


async def list_mine(session: AsyncSession, user: str) -> list[Task]:
    """Unresolved tasks the user leads, helps with or assigned, by deadline."""
    rows = await session.scalars(
        select(Task).where(Task.status.in_(("open", "submitted"))).order_by(Task.due_at, Task.id)
    )
    return [t for t in rows if may_act(t, user)]


async def list_finished(session: AsyncSession, user: str, *, limit: int = 20) -> list[Task]:
    """Accepted (办结) tasks the user led, helped with or assigned, most recently closed first."""
    # Narrowed in SQL (history grows without end; co-owners are JSON, matched as text),
    # `may_act` has the last word.
    mine = or_(Task.assigner == user, Task.lead == user, json_names(Task.co_owners, user))
    rows = await session.scalars(
        select(Task).where(Task.status == "accepted", mine).order_by(Task.accepted_at.desc(), Task.id.desc())
    )
    return [t for t in rows if may_act(t, user)][:limit]


async def list_open(session: AsyncSession) -> list[Task]:
    """Every unresolved task by deadline; callers keep those the viewer may see (tasks.access)."""
    rows = await session.scalars(
        select(Task).where(Task.status.in_(("open", "submitted"))).order_by(Task.due_at, Task.id)
    )
    return list(rows)


async def list_overdue(session: AsyncSession, user: str, now: datetime) -> list[Task]:
    return [t for t in await list_mine(session, user) if t.due_at < now and t.status == "open"]


async def list_of(session: AsyncSession, viewer: str, person: str, *, see_all: bool = False) -> list[Task]:
    """Unresolved tasks of `person` that `viewer` assigned (all of them for leaders, or oneself)."""
    rows = await session.scalars(
        select(Task)
        .where(Task.status.in_(("open", "submitted")), or_(Task.lead == person, Task.assigner == viewer))
        .order_by(Task.due_at, Task.id)
    )
    found = [t for t in rows if person in t.owners]
    if see_all or viewer == person:
        return found
    return [t for t in found if t.assigner == viewer]


async def list_notes(session: AsyncSession, task_id: int) -> list[TaskNote]:
    """The task's history, oldest first."""
    rows = await session.scalars(select(TaskNote).where(TaskNote.task_id == task_id).order_by(TaskNote.at, TaskNote.id))
    return list(rows)


# -- creating ----------------------------------------------------------------------------
async def create_task(
    session: AsyncSession,
    *,
    assigner: str,
    lead: str,
    co_owners: list[str] | tuple[str, ...] = (),
    title: str,
    due_at: datetime,
    source: str | None = None,
    priority: str = "normal",
    room_id: str | None = None,
    clock: Clock,
) -> Task:
    """Assign a task: store it, audit it, schedule its reminders and escalation, and DM the owners.

    `due_at` is aware UTC and must be in the future; `priority` is "normal" or "high";
    `source` names where the task came from ("M3", "A12", "E5" or free text). The caller
    shows the task card (`render_card`) where it wants, with ref `card_ref(task.id)`.
    """
    title = title.strip()
    if not title:
        raise DomainError("task.no_title")
    if priority not in PRIORITIES:
        raise ValueError(f"priority must be one of {PRIORITIES}")
    now = clock.now()
    if due_at <= now:
        lang, tz = await prefs(session, assigner)
        raise DomainError("task.due_past", when=format_when(due_at, tz=tz, lang=lang, now=now))
    co = [u for u in dict.fromkeys(co_owners) if u != lead]
    task = Task(
        title=title[:2000],
        assigner=assigner,
        lead=lead,
        co_owners=co,
        due_at=due_at,
        source=(source or "").strip()[:255] or None,
        priority=priority,
        status="open",
        progress=0,
        room_id=room_id,
        created_at=now,
        updated_at=now,
    )
    session.add(task)
    await session.flush()
    await _note(session, task, assigner, "created", clock)
    await audit.record(
        session,
        actor=assigner,
        action="task.create",
        subject=task.code,
        data={
            "title": task.title,
            "lead": lead,
            "co_owners": co,
            "due_at": due_at.isoformat(),
            "source": task.source,
            "priority": priority,
            "room": room_id,
        },
        clock=clock,
    )
    policy = await load_policy(session)
    await schedule_deadline(session, task, policy, clock)
    await ensure_digest(session, policy, clock)
    await ensure_digest(session, policy, clock, tz=(await prefs(session, assigner))[1])
    for user in task.owners:
        if user != assigner:
            await tell(
                session,
                user,
                "task.assigned_dm",
                clock,
                ref=dm_ref(task.id),
                code=task.code,
                title=task.title,
                assigner=assigner,
                when=task.due_at,
            )
    return task


async def _note(
    session: AsyncSession,
    task: Task,
    author: str,
    kind: str,
    clock: Clock,
    *,
    text: str = "",
    percent: int | None = None,
) -> None:
    session.add(TaskNote(task_id=task.id, at=clock.now(), author=author, kind=kind, percent=percent, text=text))
    await session.flush()


# -- acting ------------------------------------------------------------------------------
async def report_progress(
    session: AsyncSession, task_id: int, actor: str, percent: int, note: str, clock: Clock
) -> Task:
    task = await get_task(session, task_id)
    _require_party(task, actor)
    if not 0 <= percent <= 100:
        raise DomainError("task.bad_percent", value=f"{percent}%")
    _require_open(task)
    old = task.progress
    task.progress = percent
    task.updated_at = clock.now()
    await _note(session, task, actor, "progress", clock, text=note, percent=percent)
    await audit.record(
        session,
        actor=actor,
        action="task.progress",
        subject=task.code,
        data={"from": old, "to": percent, "note": note},
        clock=clock,
    )
    if task.assigner != actor:
        await tell(
            session,
            task.assigner,
            "task.progress_dm",
            clock,
            ref=dm_ref(task.id),
            user=actor,
            code=task.code,
            title=task.title,
            percent=percent,
            note=note,
        )
    await refresh_card(session, task, clock)
    return task


async def submit_done(session: AsyncSession, task_id: int, actor: str, note: str, clock: Clock) -> Task:
    """The owners say it is done; the assigner now accepts (办结) or sends it back (退办)."""
    task = await get_task(session, task_id)
    _require_owner(task, actor)
    _require_open(task)
    task.status = "submitted"
    task.progress = 100
    task.updated_at = clock.now()
    await timers.cancel_prefix(session, timer_prefix(task.id))
    await _note(session, task, actor, "done", clock, text=note, percent=100)
    await audit.record(session, actor=actor, action="task.done", subject=task.code, data={"note": note}, clock=clock)
    await tell(
        session,
        task.assigner,
        "task.submitted",
        clock,
        ref=done_ref(task.id),
        code=task.code,
        title=task.title,
        note=note or render("task.no_note", (await prefs(session, task.assigner))[0]),
        assigner=task.assigner,
    )
    await refresh_card(session, task, clock)
    return task


async def accept(session: AsyncSession, task_id: int, actor: str, note: str, clock: Clock) -> Task:
    """办结: the assigner accepts the work and the task is closed."""
    task = await get_task(session, task_id)
    _require_assigner(task, actor)
    if task.status == "accepted":
        raise DomainError("task.closed", code=task.code)
    if task.status != "submitted":
        raise DomainError("task.not_submitted", code=task.code)
    task.status = "accepted"
    task.accepted_at = task.updated_at = clock.now()
    task.ext_due_at, task.ext_reason, task.ext_by = None, None, None
    await timers.cancel_prefix(session, timer_prefix(task.id))
    await _note(session, task, actor, "accept", clock, text=note)
    await audit.record(session, actor=actor, action="task.accept", subject=task.code, data={"note": note}, clock=clock)
    await tell_all(session, task.owners, "task.accepted", clock, code=task.code, title=task.title, user=actor)
    await refresh_card(session, task, clock)
    return task


async def send_back(session: AsyncSession, task_id: int, actor: str, reason: str, clock: Clock) -> Task:
    """退办: the assigner returns submitted work with a reason; the clock runs again."""
    task = await get_task(session, task_id)
    _require_assigner(task, actor)
    if task.status == "accepted":
        raise DomainError("task.closed", code=task.code)
    if task.status != "submitted":
        raise DomainError("task.not_submitted", code=task.code)
    if not reason.strip():
        raise DomainError("task.need_reason")
    task.status = "open"
    task.updated_at = clock.now()
    await _note(session, task, actor, "sendback", clock, text=reason)
    await audit.record(
        session, actor=actor, action="task.sendback", subject=task.code, data={"reason": reason}, clock=clock
    )
    await schedule_deadline(session, task, await load_policy(session), clock)
    await tell_all(
        session,
        task.owners,
        "task.sent_back",
        clock,
        ref=dm_ref(task.id),
        code=task.code,
        title=task.title,
        reason=reason,
        when=task.due_at,
    )
    await refresh_card(session, task, clock)
    return task


async def request_extension(
    session: AsyncSession, task_id: int, actor: str, new_due: datetime, reason: str, clock: Clock
) -> Task:
    """延期申请: an owner asks the assigner for a later deadline."""
    task = await get_task(session, task_id)
    _require_owner(task, actor)
    _require_open(task)
    if task.ext_due_at is not None:
        raise DomainError("task.ext_pending", code=task.code)
    if not reason.strip():
        raise DomainError("task.need_reason")
    if new_due <= task.due_at:
        lang, tz = await prefs(session, actor)
        now = clock.now()
        raise DomainError(
            "task.ext_not_later",
            when=format_when(new_due, tz=tz, lang=lang, now=now),
            due=format_when(task.due_at, tz=tz, lang=lang, now=now),
        )
    task.ext_due_at, task.ext_reason, task.ext_by = new_due, reason, actor
    task.updated_at = clock.now()
    await _note(session, task, actor, "extend", clock, text=reason)
    await audit.record(
        session,
        actor=actor,
        action="task.extend",
        subject=task.code,
        data={"from": task.due_at.isoformat(), "to": new_due.isoformat(), "reason": reason},
        clock=clock,
    )
    await tell(
        session,
        task.assigner,
        "task.ext_requested",
        clock,
        ref=ext_ref(task.id),
        user=actor,
        code=task.code,
        title=task.title,
        when=new_due,
        due=task.due_at,
        reason=reason,
        assigner=task.assigner,
    )
    await refresh_card(session, task, clock)
    return task


async def decide_extension(
    session: AsyncSession, task_id: int, actor: str, approve: bool, reason: str, clock: Clock
) -> Task:
    """The assigner approves (the deadline moves, its timers too) or refuses an extension."""
    task = await get_task(session, task_id)
    _require_assigner(task, actor)
    if task.ext_due_at is None:
        raise DomainError("task.no_ext", code=task.code)
    requested = task.ext_due_at
    old_due = task.due_at
    if approve:
        task.due_at = requested
    task.ext_due_at, task.ext_reason, task.ext_by = None, None, None
    task.updated_at = clock.now()
    kind = "ext_approved" if approve else "ext_refused"
    await _note(session, task, actor, kind, clock, text=reason)
    await audit.record(
        session,
        actor=actor,
        action=f"task.{kind}",
        subject=task.code,
        data={"from": old_due.isoformat(), "requested": requested.isoformat(), "reason": reason},
        clock=clock,
    )
    if approve and task.status == "open":
        await schedule_deadline(session, task, await load_policy(session), clock)
    for user in task.owners:
        lang = (await prefs(session, user))[0]
        await tell(
            session,
            user,
            "task.ext_approved" if approve else "task.ext_refused",
            clock,
            ref=dm_ref(task.id),
            code=task.code,
            title=task.title,
            when=task.due_at,
            reason=reason or render("task.no_reason", lang),
        )
    await refresh_card(session, task, clock)
    return task


async def cancel_task(session: AsyncSession, task_id: int, actor: str, reason: str, clock: Clock) -> Task:
    """撤销: the assigner withdraws a task that is no longer needed; its timers stop.

    An accepted (办结) task is history and stays; a cancelled one disappears from lists and
    from every command (it reads as "not found"), but its notes and audit trail remain.
    """
    task = await get_task(session, task_id)
    _require_assigner(task, actor)
    if task.status == "accepted":
        raise DomainError("task.closed", code=task.code)
    old_status = task.status
    task.status = "cancelled"
    task.updated_at = clock.now()
    task.ext_due_at, task.ext_reason, task.ext_by = None, None, None
    await timers.cancel_prefix(session, timer_prefix(task.id))
    await _note(session, task, actor, "cancel", clock, text=reason)
    await audit.record(
        session,
        actor=actor,
        action="task.cancel",
        subject=task.code,
        data={"from": old_status, "reason": reason},
        clock=clock,
    )
    for user in task.owners:
        if user != actor:
            lang = (await prefs(session, user))[0]
            await tell(
                session,
                user,
                "task.cancelled",
                clock,
                ref=dm_ref(task.id),
                code=task.code,
                title=task.title,
                user=actor,
                reason=reason or render("task.no_reason", lang),
            )
    await refresh_card(session, task, clock)
    return task


__all__ = [
    "accept",
    "cancel_task",
    "card_ref",
    "create_task",
    "decide_extension",
    "get_task",
    "list_finished",
    "list_mine",
    "list_notes",
    "list_of",
    "list_overdue",
    "parse_code",
    "parse_ref",
    "render_card",
    "report_progress",
    "request_extension",
    "send_back",
    "submit_done",
]
