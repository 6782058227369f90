"""The timers of tasks and reminders, and what each does when it fires.

Timers of a task (all cancelled when it is accepted, rescheduled when its deadline moves):
  task:T7:remind:1d, task:T7:remind:2h   reminders before the deadline (TaskPolicy)
  task:T7:overdue                          the escalation chain: lead → assigner → daily
one timer per time zone in use, tasks:digest[:zone], for the daily digest of overdue work;
and a reminder's own, reminder:R12 (plus reminder:R12:nag while an alarm rings).

The handlers run in the worker, without a chat turn: they read the office's timings from the
stored TaskPolicy and render each text in its reader's language (commands.tasks.notices).
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from commands.tasks.models import Reminder, Task
from commands.tasks.notices import post, prefs, push, refresh_card, tell, tell_all
from commands.tasks.policy import TaskPolicy, load_policy
from commands.tasks.refs import dm_ref, label, timer_prefix
from commands.tasks.reminders import FIRE, NAG, ref_of
from commands.tasks.texts import render
from notifications import reach
from records import audit, timers
from records.clock import Clock
from records.config import Settings
from records.models import Timer
from records.timers import Fired, TimerRegistry
from timeparse import Recurrence, format_duration, format_when

REMIND = "task.remind"
OVERDUE = "task.overdue"
DIGEST = "task.digest"
DIGEST_KEY = "tasks:digest"
SYSTEM = "zhiban"


def register_timers(registry: TimerRegistry, settings: Settings) -> None:
    registry.register(FIRE)(fire)
    registry.register(NAG)(nag)
    registry.register(REMIND)(fire_reminder)
    registry.register(OVERDUE)(fire_overdue)
    registry.register(DIGEST)(fire_digest)


# -- tasks -------------------------------------------------------------------------------
async def schedule_deadline(session: AsyncSession, task: Task, policy: TaskPolicy, clock: Clock) -> None:
    """(Re)plan the reminders before the deadline and the start of the escalation chain."""
    await timers.cancel_prefix(session, timer_prefix(task.id))
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
                key=f"{timer_prefix(task.id)}remind:{label(minutes)}",
                clock=clock,
            )
    await timers.schedule(
        session,
        OVERDUE,
        max(task.due_at, now),
        {"id": task.id, "step": 0},
        key=f"{timer_prefix(task.id)}overdue",
        clock=clock,
    )


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
            "task.due_lead" if step == 0 else "task.overdue_lead",
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


# -- reminders ---------------------------------------------------------------------------
async def _announce(session: AsyncSession, reminder: Reminder, key: str, clock: Clock) -> None:
    """Deliver one firing: in the room (mentioning owner and subscribers) or by DM."""
    ref = ref_of(reminder.id)
    everyone = [reminder.owner, *(reminder.subscribers or [])]
    params = {"code": reminder.code, "text": reminder.text}
    # An alarm and its re-rings go out first after an outage; its owner hears if one cannot.
    urgent, owner = reminder.alarm, reminder.owner
    if reminder.target == "room" and reminder.room_id is not None:
        await post(
            session,
            reminder.room_id,
            key,
            clock,
            lang=reminder.lang,
            tz=reminder.tz,
            mention=everyone,
            ref=ref,
            urgent=urgent,
            caused_by=owner,
            **params,
        )
        for user in everyone:
            lang, _ = await prefs(session, user)
            await push(
                session, [user], "reminder", render("push.title", lang), render(key, lang, **params), clock, ref=ref
            )
        return
    for user in everyone:
        await tell(session, user, key, clock, ref=ref, urgent=urgent, caused_by=owner, **params)


async def fire(session: AsyncSession, timer: Timer, clock: Clock) -> Fired | None:
    """The reminder's own timer: deliver, then set the alarm ringing and/or plan the next time."""
    reminder = await session.get(Reminder, int(timer.payload["id"]))
    if reminder is None or reminder.status != "active":
        return None
    now = clock.now()
    policy = await load_policy(session)
    await _announce(session, reminder, "reminder.fired_alarm" if reminder.alarm else "reminder.fired", clock)
    reminder.fired_count += 1
    if reminder.alarm:
        reminder.ringing = True
        await timers.schedule(
            session, NAG, now + policy.alarm_repeat, {"id": reminder.id}, key=ref_of(reminder.id) + ":nag", clock=clock
        )
    if reminder.rule is None:
        if not reminder.alarm:
            reminder.status = "done"
        return None
    # After downtime, skip the occurrences that were missed rather than firing them all at once.
    nxt = Recurrence.from_rule(reminder.rule, reminder.tz).next_after(max(timer.due_at, now))
    reminder.due_at = nxt
    return Fired(again_at=nxt)


async def nag(session: AsyncSession, timer: Timer, clock: Clock) -> Fired | None:
    """An alarm's repeat: ring again until someone reacts ✅."""
    reminder = await session.get(Reminder, int(timer.payload["id"]))
    if reminder is None or reminder.status != "active" or not reminder.ringing:
        return None
    policy = await load_policy(session)
    await _announce(session, reminder, "reminder.fired_again", clock)
    return Fired(again_at=clock.now() + policy.alarm_repeat)
