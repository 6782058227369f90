"""Personal and room reminders: one-off, recurring, and alarms that nag until someone reacts ✅.

Each reminder is a durable timer keyed "reminder:R12" (and "reminder:R12:nag" while an alarm
rings), so it survives restarts of the bot and flushes of Redis. Messages a reminder sends
carry the outbox ref "reminder:R12", which is how reactions on them find the reminder.
What the timers do when they fire is in commands.tasks.timers.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from commands.tasks.models import Reminder
from records import audit, timers
from records.clock import Clock
from records.errors import DomainError, NotAllowed, NotFound

FIRE = "reminder.fire"
NAG = "reminder.nag"
_CODE = re.compile(r"^[Rr](\d{1,12})$")


def ref_of(reminder_id: int) -> str:
    """The outbox ref (and the timer key) of a reminder."""
    return f"reminder:R{reminder_id}"


def id_from_ref(ref: str) -> int | None:
    m = re.fullmatch(r"reminder:R(\d+)", ref)
    return int(m.group(1)) if m else None


def parse_code(code: str) -> int:
    m = _CODE.match(code.strip())
    if not m:
        raise NotFound("reminder.not_found", code=code[:20])
    return int(m.group(1))


async def create_reminder(
    session: AsyncSession,
    *,
    owner: str,
    target: str,
    room_id: str | None,
    text: str,
    due_at: datetime,
    rule: str | None,
    tz: str,
    lang: str,
    alarm: bool,
    clock: Clock,
) -> Reminder:
    """Store a reminder and its timer. `due_at` is the first firing (aware UTC)."""
    if target not in ("me", "room"):
        raise ValueError("target must be 'me' or 'room'")
    if target == "room" and room_id is None:
        raise ValueError("a room reminder needs a room")
    if not text.strip():
        raise DomainError("reminder.no_text")
    if due_at <= clock.now():
        raise DomainError("time.in_past", text=text[:24])
    reminder = Reminder(
        owner=owner,
        target=target,
        room_id=room_id,
        text=text.strip(),
        due_at=due_at,
        rule=rule,
        tz=tz,
        lang=lang,
        alarm=alarm,
        ringing=False,
        subscribers=[],
        status="active",
        fired_count=0,
        created_at=clock.now(),
    )
    session.add(reminder)
    await session.flush()
    await timers.schedule(session, FIRE, due_at, {"id": reminder.id}, key=ref_of(reminder.id), clock=clock)
    await audit.record(
        session,
        actor=owner,
        action="reminder.create",
        subject=reminder.code,
        data={"target": target, "room": room_id, "due_at": due_at.isoformat(), "rule": rule, "alarm": alarm},
        clock=clock,
    )
    return reminder


async def get_reminder(session: AsyncSession, reminder_id: int) -> Reminder:
    reminder = await session.get(Reminder, reminder_id)
    if reminder is None or reminder.status == "cancelled":
        raise NotFound("reminder.not_found", code=f"R{reminder_id}")
    return reminder


async def list_active(session: AsyncSession) -> list[Reminder]:
    """Every active reminder, soonest first; callers keep those the viewer may see (tasks.access)."""
    return list(await session.scalars(select(Reminder).where(Reminder.status == "active").order_by(Reminder.due_at)))


async def list_reminders(session: AsyncSession, user: str) -> list[Reminder]:
    """The user's active reminders, and those they subscribed to, soonest first."""
    rows = await session.scalars(select(Reminder).where(Reminder.status == "active").order_by(Reminder.due_at))
    return [r for r in rows if r.owner == user or user in (r.subscribers or [])]


async def cancel_reminder(
    session: AsyncSession, reminder_id: int, actor: str, clock: Clock, *, admin_of: str | None = None
) -> Reminder:
    """Cancel a reminder: its owner may, and so may an admin of the room it posts in.

    `admin_of` is the room where the caller has checked that `actor` is an admin (power level
    100 or the configured role). It only reaches room reminders of that very room: a personal
    reminder (delivered by DM) stays its owner's business.
    """
    reminder = await get_reminder(session, reminder_id)
    as_admin = (
        reminder.owner != actor and admin_of is not None and reminder.target == "room" and reminder.room_id == admin_of
    )
    if reminder.owner != actor and not as_admin:
        raise NotAllowed("reminder.not_yours", code=reminder.code)
    reminder.status = "cancelled"
    reminder.ringing = False
    await timers.cancel(session, ref_of(reminder.id))
    await timers.cancel(session, ref_of(reminder.id) + ":nag")
    await audit.record(
        session,
        actor=actor,
        action="reminder.cancel",
        subject=reminder.code,
        data={"owner": reminder.owner, "as": "room_admin" if as_admin else "owner"},
        clock=clock,
    )
    return reminder


async def subscribe(session: AsyncSession, reminder_id: int, user: str, clock: Clock) -> bool:
    """Add a subscriber (👍); False when they were subscribed already or own it."""
    reminder = await get_reminder(session, reminder_id)
    if user == reminder.owner or user in (reminder.subscribers or []):
        return False
    reminder.subscribers = [*(reminder.subscribers or []), user]
    await audit.record(session, actor=user, action="reminder.subscribe", subject=reminder.code, clock=clock)
    return True


async def acknowledge(session: AsyncSession, reminder_id: int, user: str, clock: Clock) -> bool:
    """Silence a ringing alarm (✅). False when it was not ringing."""
    reminder = await get_reminder(session, reminder_id)
    if not reminder.ringing:
        return False
    reminder.ringing = False
    await timers.cancel(session, ref_of(reminder.id) + ":nag")
    if reminder.rule is None:
        reminder.status = "done"
    await audit.record(session, actor=user, action="reminder.ack", subject=reminder.code, clock=clock)
    return True
