"""Supervised tasks (督办): assign, report progress, submit, accept (办结) or send back (退办),
ask for more time (延期申请), and the timers that remind and escalate.

Other features create tasks through `create_task` (a meeting's action items, an approval's
follow-up, an incident's assignments). Every change is audited in the caller's transaction.

Timers of a task (all cancelled when it is accepted, rescheduled when its deadline moves):
  task:T7:remind:1d, task:T7:remind:2h   reminders before the deadline (TaskPolicy)
  task:T7:overdue                          the escalation chain: lead → assigner → daily
and one office-wide timer, tasks:digest, for the daily digest of overdue work.
"""

from __future__ import annotations

import html as htmllib
import re
from collections import defaultdict
from datetime import datetime, time
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from commands.tasks.models import Task, TaskNote
from commands.tasks.notices import prefs, push, tell, tell_all
from commands.tasks.policy import TaskPolicy, load_policy
from commands.tasks.texts import TEXTS, render
from commands.visibility import json_names
from notifications import reach
from records import audit, outbox, timers
from records.clock import Clock
from records.errors import DomainError, NotAllowed, NotFound
from records.models import Timer
from records.timers import Fired
from timeparse import Recurrence, format_duration, format_when
from timeparse.zones import to_local

REMIND = "task.remind"
OVERDUE = "task.overdue"
DIGEST = "task.digest"
DIGEST_KEY = "tasks:digest"
SYSTEM = "zhiban"
PRIORITIES = ("normal", "high")
_CODE = re.compile(r"^[Tt]?(\d{1,12})$")


# -- names -------------------------------------------------------------------------------
def parse_code(code: str) -> int:
    m = _CODE.match(code.strip())
    if not m:
        raise NotFound("task.not_found", code=code[:20])
    return int(m.group(1))


def card_ref(task_id: int) -> str:
    """The task card in a room: edited in place (m.replace) on every change of state."""
    return f"task:T{task_id}"


def dm_ref(task_id: int) -> str:
    """DMs about the task (assigned, progress, reminders…): their own ref, so that the card's
    ref names the card alone and an edit of the card never lands on a DM."""
    return f"task:T{task_id}:dm"


def done_ref(task_id: int) -> str:
    """The completion notice: ✅ on it accepts the task."""
    return f"task:T{task_id}:done"


def ext_ref(task_id: int) -> str:
    """The extension request: ✅ approves it, ❌ refuses it."""
    return f"task:T{task_id}:ext"


def parse_ref(ref: str) -> tuple[int, str] | None:
    """("task:T7:done") → (7, "done"); the card itself gives (7, ""), a DM about it (7, "dm")."""
    m = re.fullmatch(r"task:T(\d+)(?::(done|ext|dm))?", ref)
    return None if m is None else (int(m.group(1)), m.group(2) or "")


def _timer_prefix(task_id: int) -> str:
    return f"task:T{task_id}:"


def _label(minutes: int) -> str:
    if minutes % 1440 == 0:
        return f"{minutes // 1440}d"
    if minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}m"


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
    await _schedule_deadline(session, task, policy, clock)
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


def format_due(due_at: datetime, *, tz: str, lang: str, now: datetime, end_of_day: time | None = None) -> str:
    """A deadline, saying "(end of the working day)" when it falls on the office's end of day,
    so that a reader of "截止 明天" sees which hour the bare date was taken to mean."""
    text = format_when(due_at, tz=tz, lang=lang, now=now)
    if end_of_day is not None and to_local(due_at, tz).time().replace(second=0, microsecond=0) == end_of_day:
        text += render("task.end_of_day_tag", lang)
    return text


def _status_line(task: Task, lang: str, tz: str, now: datetime) -> str:
    if task.status == "accepted" and task.accepted_at is not None:
        return render("task.card_accepted", lang, when=format_when(task.accepted_at, tz=tz, lang=lang, now=now))
    if task.status == "cancelled":
        return render("task.card_cancelled", lang)
    overdue = task.status == "open" and task.due_at < now
    status = render("task.status_overdue" if overdue else f"task.status_{task.status}", lang)
    return render("task.card_status", lang, status=status, percent=task.progress)


def render_card(
    task: Task, lang: str, tz: str, now: datetime, *, end_of_day: time | None = None, latest: str = ""
) -> str:
    """The task card in one language: what, who, by when, from where, and where it stands now
    (status, progress, the last note, a pending extension request). `latest` is the last note."""
    co = render("task.co_line", lang, co="、".join(task.co_owners)) if task.co_owners else ""
    source = render("task.source_line", lang, source=task.source) if task.source else ""
    card = render(
        "task.created",
        lang,
        code=task.code,
        priority=render("task.priority_high", lang) if task.priority == "high" else "",
        title=task.title,
        lead=task.lead,
        co=co,
        assigner=task.assigner,
        when=format_due(task.due_at, tz=tz, lang=lang, now=now, end_of_day=end_of_day),
        source=source,
    )
    card += "\n" + _status_line(task, lang, tz, now)
    if latest:
        card += render("task.card_latest", lang, note=latest)
    if task.ext_due_at is not None and task.status == "open":
        when = format_due(task.ext_due_at, tz=tz, lang=lang, now=now, end_of_day=end_of_day)
        card += render("task.card_ext", lang, user=task.ext_by or "", when=when)
    return card


async def list_notes(session: AsyncSession, task_id: int) -> list[TaskNote]:
    """The task's history, oldest first."""
    rows = await session.scalars(select(TaskNote).where(TaskNote.task_id == task_id).order_by(TaskNote.at, TaskNote.id))
    return list(rows)


def latest_note(notes: list[TaskNote]) -> str:
    """The last thing the owners said about the work (a progress or completion note)."""
    for note in reversed(notes):
        if note.kind in ("progress", "done") and note.text:
            return note.text[:200]
    return ""


def render_history(task: Task, notes: list[TaskNote], lang: str, tz: str, now: datetime) -> str:
    """`!task T7`: the dates and every step of the history, one line each."""
    lines = [render("task.history_created", lang, when=format_when(task.created_at, tz=tz, lang=lang, now=now))]
    lines.append(render("task.history_title", lang))
    for note in notes:
        percent = f" {note.percent}%" if note.percent is not None and note.kind == "progress" else ""
        text = f"：{note.text}" if lang == "zh" and note.text else (f": {note.text}" if note.text else "")
        lines.append(
            render(
                "task.history_item",
                lang,
                when=format_when(note.at, tz=tz, lang=lang, now=now),
                user=note.author,
                what=render(f"task.note_{note.kind}", lang) if f"task.note_{note.kind}" in TEXTS else note.kind,
                percent=percent,
                text=text[:300],
            )
        )
    return "\n".join(lines)


async def refresh_card(session: AsyncSession, task: Task, clock: Clock) -> None:
    """Edit the task's room card in place (m.replace of the row sent as `card_ref`).

    The card follows every change of state. It is written in the assigner's language and
    zone (the card is normally posted by them). Nothing happens when no card was posted (a
    task another feature created without showing one); a row under the card's ref that went
    to a person (databases from before DMs had their own ref) is not a card and is left alone.
    """
    card = await outbox.latest_with_ref(session, card_ref(task.id))
    if card is None or card.to_user is not None:
        return
    lang, tz = await prefs(session, task.assigner)
    policy = await load_policy(session)
    # Status and percentage only: everyone in the room saw the card, but what the owners write
    # about the work is for those the need-to-know rule admits (`!task T7` shows it to them).
    body = render_card(task, lang, tz, clock.now(), end_of_day=policy.end_of_day_time)
    await outbox.enqueue_edit(session, card_ref(task.id), outbox.text_content(body, _html(body)))


def _html(body: str) -> str:
    return htmllib.escape(body).replace("\n", "<br>")


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


async def _schedule_deadline(session: AsyncSession, task: Task, policy: TaskPolicy, clock: Clock) -> None:
    """(Re)plan the reminders before the deadline and the start of the escalation chain."""
    await timers.cancel_prefix(session, _timer_prefix(task.id))
    now = clock.now()
    for before in policy.remind_before:
        at = task.due_at - before
        if at > now:
            minutes = int(before.total_seconds() // 60)
            await timers.schedule(
                session,
                REMIND,
                at,
                {"id": task.id, "due": task.due_at.isoformat()},
                key=f"{_timer_prefix(task.id)}remind:{_label(minutes)}",
                clock=clock,
            )
    await timers.schedule(
        session,
        OVERDUE,
        max(task.due_at, now),
        {"id": task.id, "step": 0},
        key=f"{_timer_prefix(task.id)}overdue",
        clock=clock,
    )


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
    await timers.cancel_prefix(session, _timer_prefix(task.id))
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
    await timers.cancel_prefix(session, _timer_prefix(task.id))
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
    await _schedule_deadline(session, task, await load_policy(session), clock)
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
        await _schedule_deadline(session, task, await load_policy(session), clock)
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
    await timers.cancel_prefix(session, _timer_prefix(task.id))
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


# -- timers ------------------------------------------------------------------------------
async def fire_reminder(session: AsyncSession, timer: Timer, clock: Clock) -> Fired | None:
    """Before the deadline: remind the owners of an open task."""
    task = await session.get(Task, int(timer.payload["id"]))
    if task is None or task.status != "open" or task.due_at.isoformat() != timer.payload.get("due"):
        return None
    left = (task.due_at - clock.now()).total_seconds()
    for user in task.owners:
        lang = (await prefs(session, user))[0]
        await tell(
            session,
            user,
            "task.remind_before",
            clock,
            ref=dm_ref(task.id),
            code=task.code,
            title=task.title,
            when=task.due_at,
            left=format_duration(max(left, 0), lang),
            percent=task.progress,
        )
    return None


async def fire_overdue(session: AsyncSession, timer: Timer, clock: Clock) -> Fired | None:
    """The escalation chain of an overdue task: step 0 the owners, step 1 the assigner,
    then both every `overdue_repeat` until the task is submitted or its deadline moves."""
    task = await session.get(Task, int(timer.payload["id"]))
    now = clock.now()
    if task is None or task.status != "open" or task.due_at > now:
        return None
    policy = await load_policy(session)
    step = int(timer.payload.get("step", 0))
    told: list[str] = []
    if step == 0 or step >= 2:
        told.extend(task.owners)
        await tell_all(
            session,
            task.owners,
            "task.overdue_lead",
            clock,
            ref=dm_ref(task.id),
            urgent=True,
            caused_by=task.assigner,
            code=task.code,
            title=task.title,
            when=task.due_at,
        )
    if step >= 1:
        told.append(task.assigner)
        await tell(
            session,
            task.assigner,
            "task.overdue_assigner",
            clock,
            ref=dm_ref(task.id),
            urgent=True,
            code=task.code,
            title=task.title,
            when=task.due_at,
            lead=task.lead,
            percent=task.progress,
        )
    await audit.record(
        session, actor=SYSTEM, action="task.escalate", subject=task.code, data={"step": step, "told": told}, clock=clock
    )
    timer.payload = {**timer.payload, "step": step + 1}
    if step == 0:
        await refresh_card(session, task, clock)  # the card now says 已超期
        return Fired(again_at=max(now, task.due_at + policy.escalate_after))
    return Fired(again_at=now + policy.overdue_repeat)


def digest_key(tz: str, policy: TaskPolicy) -> str:
    """The digest timer of one time zone: the office's zone keeps the historical key."""
    return DIGEST_KEY if tz == policy.default_tz else f"{DIGEST_KEY}:{tz}"


def _digest_rule(policy: TaskPolicy, tz: str | None = None) -> Recurrence:
    hour, minute = (int(part) for part in policy.digest_time.split(":"))
    return Recurrence(f"RRULE:FREQ=DAILY;BYHOUR={hour};BYMINUTE={minute};BYSECOND=0", tz or policy.default_tz)


async def ensure_digest(
    session: AsyncSession, policy: TaskPolicy, clock: Clock, *, tz: str | None = None, reset: bool = False
) -> None:
    """Make sure the daily digest timer of zone `tz` (the office's by default) exists.

    Each assigner gets the digest at the configured time on their own wall clock, so there is
    one timer per zone in use; the office's one always exists (`reset` at startup re-plans it
    after a configuration change).
    """
    zone = tz or policy.default_tz
    key = digest_key(zone, policy)
    existing = await session.scalar(select(Timer).where(Timer.key == key))
    if existing is not None and existing.status in ("pending", "claimed") and not reset:
        return
    if existing is not None and existing.status == "claimed":
        return  # running right now; it plans its own next run
    at = _digest_rule(policy, zone).next_after(clock.now())
    payload = {} if key == DIGEST_KEY else {"tz": zone}
    await timers.schedule(session, DIGEST, at, payload, key=key, clock=clock)


async def fire_digest(session: AsyncSession, timer: Timer, clock: Clock) -> Fired | None:
    """Each morning of one zone: the assigners living there get their overdue tasks (nothing when none).

    The office zone's run also makes sure every other zone of an assigner with overdue work
    has its own timer (someone may have changed `!tz` since they assigned it). A zone's timer
    stops when none of its assigners has unresolved work left; assigning a task starts it again.
    """
    now = clock.now()
    policy = await load_policy(session)
    zone = str(timer.payload.get("tz") or policy.default_tz)
    office = zone == policy.default_tz
    rows = await session.scalars(
        select(Task).where(Task.status.in_(("open", "submitted"))).order_by(Task.due_at, Task.id)
    )
    by_assigner: dict[str, list[Task]] = defaultdict(list)
    zone_in_use = False
    for task in rows:
        lang, tz = await prefs(session, task.assigner)
        if tz != zone:
            if office and task.status == "open" and task.due_at < now:
                await ensure_digest(session, policy, clock, tz=tz)
            continue
        zone_in_use = True
        if task.status == "open" and task.due_at < now:
            by_assigner[task.assigner].append(task)
    for assigner, tasks in by_assigner.items():
        lang, tz = await prefs(session, assigner)
        lines = [render("task.digest_title", lang, count=len(tasks))]
        lines += [
            render(
                "task.digest_item",
                lang,
                code=t.code,
                title=t.title,
                lead=t.lead,
                when=format_when(t.due_at, tz=tz, lang=lang, now=now),
                percent=t.progress,
            )
            for t in tasks
        ]
        body = "\n".join(lines)
        await reach.dm(session, assigner, body, ref="tasks:digest")
        await push(session, [assigner], "digest", lines[0], body, clock, ref="tasks:digest")
    if not office and not zone_in_use:
        return None
    return Fired(again_at=_digest_rule(policy, zone).next_after(now))


def describe_status(task: Task, lang: str) -> str:
    return render(f"task.status_{task.status}", lang)


def role_of(task: Task, user: str) -> str:
    if user == task.lead:
        return "lead"
    if user in task.co_owners:
        return "co"
    if user == task.assigner:
        return "assigner"
    return ""


__all__: list[Any] = [
    "accept",
    "cancel_task",
    "card_ref",
    "create_task",
    "decide_extension",
    "get_task",
    "list_finished",
    "list_mine",
    "list_of",
    "list_overdue",
    "render_card",
    "report_progress",
    "request_extension",
    "send_back",
    "submit_done",
]
