"""Minutes (纪要), action items and the end of a meeting.

Lines come from text in the card's thread, from `!minutes`, and from voice transcripts (the
voice feature's filer seam). `!action` makes a supervised task with the tasks feature's hook
(commands.plugin.MakeTask, handed in by the wiring), and keeps the action item here with the
task's id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from commands.meetings import notices, render, service
from commands.meetings.models import ENDED, SCHEDULED, ActionItem, Meeting, MinuteLine
from commands.meetings.policy import MeetingPolicy
from commands.plugin import MakeTask, SupervisedTask
from records import audit, outbox, timers
from records.clock import Clock
from records.errors import DomainError, NotAllowed


def _require_party(meeting: Meeting, user: str, invited: bool) -> None:
    if user != meeting.organizer and not invited:
        raise NotAllowed("meeting.not_invited", code=meeting.code)


async def add_minute(
    session: AsyncSession,
    meeting_id: int,
    author: str,
    text: str,
    *,
    clock: Clock,
    source: str = "text",
    event_id: str | None = None,
) -> MinuteLine:
    meeting = await service.get_meeting(session, meeting_id)
    if meeting.status != SCHEDULED:
        raise DomainError(f"meeting.already_{meeting.status}", code=meeting.code)
    _require_party(meeting, author, await service.attendee(session, meeting_id, author) is not None)
    text = text.strip()
    if not text:
        raise DomainError("meeting.minute_empty")
    line = MinuteLine(
        meeting_id=meeting.id, author=author, text=text[:4000], source=source, event_id=event_id, at=clock.now()
    )
    session.add(line)
    await session.flush()
    await audit.record(
        session, actor=author, action="meeting.minute", subject=meeting.code, data={"source": source}, clock=clock
    )
    return line


def taking_minutes(meeting: Meeting, policy: MeetingPolicy, now: datetime) -> bool:
    """Thread messages count as minutes from the sign-in opening until the meeting is ended."""
    return meeting.status == SCHEDULED and now >= meeting.starts_at - policy.checkin_opens


async def meeting_of_thread(session: AsyncSession, thread_root: str | None) -> Meeting | None:
    """The meeting whose room card is `thread_root`, if any."""
    if not thread_root:
        return None
    ref = await outbox.ref_for_event(session, thread_root)
    if ref is None or not ref.startswith("card:M"):
        return None
    meeting_id = notices.parse_ref(ref)
    return None if meeting_id is None else await session.get(Meeting, meeting_id)


@dataclass
class ActionResult:
    item: ActionItem
    task: SupervisedTask  # the supervised task (督办) made for it


async def add_action(
    session: AsyncSession,
    meeting_id: int,
    actor: str,
    assignee: str,
    title: str,
    due_at: datetime,
    *,
    clock: Clock,
    make_task: MakeTask,
    is_admin: bool = False,
) -> ActionResult:
    """An action item (`!action M3 @x <task> by <when>`), made a supervised task."""
    meeting = await service.get_meeting(session, meeting_id)
    if actor != meeting.organizer and not is_admin:
        raise NotAllowed("meeting.not_organizer", code=meeting.code)
    if meeting.status == "cancelled":
        raise DomainError("meeting.already_cancelled", code=meeting.code)
    if due_at <= clock.now():
        raise DomainError("meeting.in_past")
    task = await make_task(
        session,
        assigner=actor,
        lead=assignee,
        title=title,
        due_at=due_at,
        source=meeting.code,
        room_id=meeting.room_id,
        clock=clock,
    )
    item = ActionItem(
        meeting_id=meeting.id,
        assignee=assignee,
        title=title.strip()[:2000],
        due_at=due_at,
        task_id=task.id,
        created_by=actor,
        created_at=clock.now(),
    )
    session.add(item)
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="meeting.action",
        subject=meeting.code,
        data={"assignee": assignee, "title": item.title, "due_at": due_at.isoformat(), "task": item.task_id},
        clock=clock,
    )
    return ActionResult(item, task)


# -- the end -------------------------------------------------------------------------------
async def end_meeting(
    session: AsyncSession, meeting_id: int, actor: str, *, clock: Clock, is_admin: bool = False
) -> tuple[Meeting, str]:
    """Close the meeting and post the minutes with attendance and actions; returns that text."""
    meeting = await service.get_meeting(session, meeting_id)
    if actor != meeting.organizer and not is_admin:
        raise NotAllowed("meeting.not_organizer", code=meeting.code)
    if meeting.status != SCHEDULED:
        raise DomainError(f"meeting.already_{meeting.status}", code=meeting.code)
    meeting.status = ENDED
    meeting.ended_at = meeting.updated_at = clock.now()
    meeting.revision += 1
    await timers.cancel_prefix(session, service.timer_prefix(meeting))
    await audit.record(session, actor=actor, action="meeting.end", subject=meeting.code, clock=clock)
    text = await summary(session, meeting, meeting.lang, meeting.tz, clock.now())
    await outbox.enqueue(session, outbox.text_content(text), room_id=meeting.room_id, ref=f"minutes:{meeting.code}")
    rows = await service.attendees_of(session, meeting.id)
    await notices.refresh_card(session, meeting, rows, clock.now())
    return meeting, text


async def summary(session: AsyncSession, meeting: Meeting, lang: str, tz: str, now: datetime) -> str:
    """The minutes so far (or the final ones) as Markdown, in `lang` and `tz`."""
    rows = await service.attendees_of(session, meeting.id)
    lines = await session.scalars(select(MinuteLine).where(MinuteLine.meeting_id == meeting.id).order_by(MinuteLine.id))
    items = await session.scalars(select(ActionItem).where(ActionItem.meeting_id == meeting.id).order_by(ActionItem.id))
    return render.minutes(meeting, rows, list(lines), list(items), lang, tz, now)
