"""The morning briefing: on working days, each leader and today's duty leader get a DM with the
night's incidents, what waits on them and what went late.

One timer row (records.timers) runs it; after each run it is re-armed for the next working day
at `board.briefing_time` in the office's zone. A run on a day that is not a working day (the
holiday calendar may have been updated since it was armed) sends nothing; the day a briefing
went out is kept on the row, so a re-armed or repeated run that day sends nothing again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import String, cast, select
from sqlalchemy.ext.asyncio import AsyncSession

from commands.board import service
from commands.board.render import card, people_in
from commands.board.texts import render
from commands.board_section import BoardSection, DutyLeader, Viewer
from notifications.names import names_for
from records import audit, outbox, people
from records.clock import Clock
from records.config import Settings
from records.models import Person, Timer
from records.people import Role, RoleBook
from records.timers import Fired, TimerRegistry, schedule
from timeparse import format_when, is_working_day

KIND = "board.briefing"
KEY = "board:briefing"
SYSTEM = "system"
# Working days are looked for this far ahead (the longest official holiday is 8 days).
LOOKAHEAD_DAYS = 31


def next_slot(after: datetime, settings: Settings) -> datetime:
    """The first briefing time after ``after`` that falls on a working day, in UTC."""
    zone = ZoneInfo(settings.default_tz)
    hour, minute = (int(part) for part in settings.board.briefing_time.split(":"))
    day = after.astimezone(zone).date()
    for _ in range(LOOKAHEAD_DAYS):
        at = datetime.combine(day, time(hour, minute), tzinfo=zone)
        if at > after and is_working_day(day):
            return at.astimezone(after.tzinfo)
        day += timedelta(days=1)
    raise RuntimeError(f"no working day within {LOOKAHEAD_DAYS} days of {after}")


async def arm(session: AsyncSession, settings: Settings, clock: Clock) -> None:
    """Plan the next briefing (at start-up: a changed time or a switched-off briefing applies)."""
    existing = await session.scalar(select(Timer).where(Timer.key == KEY))
    if existing is not None and existing.status == "claimed":
        return  # running right now; it re-arms itself
    if not settings.board.briefing:
        if existing is not None and existing.status == "pending":
            existing.status = "cancelled"
        return
    last = (existing.payload or {}).get("last") if existing is not None else None
    await schedule(session, KIND, next_slot(clock.now(), settings), {"last": last}, key=KEY, clock=clock)


async def recipients(session: AsyncSession, settings: Settings, duty_leader: DutyLeader, now: datetime) -> list[str]:
    """The office's leaders (config and database) and whoever leads the shift on duty now."""
    leaders = RoleBook(settings.roles).configured(Role.LEADER.value)
    stored = await session.scalars(
        select(Person.user_id).where(cast(Person.roles, String).like(f'%"{Role.LEADER.value}"%'))
    )
    on_duty = await duty_leader(session, now)
    return list(dict.fromkeys([*leaders, *sorted(stored), *([on_duty] if on_duty else [])]))


async def send_briefings(
    session: AsyncSession, settings: Settings, sections: Sequence[BoardSection], clock: Clock, who: Sequence[str]
) -> int:
    now = clock.now()
    book = RoleBook(settings.roles)
    for user in who:
        lang, tz = await people.preferences(session, user)
        roles = await book.roles_of(session, user)
        viewer = Viewer(user, frozenset(roles), lang=lang or settings.default_lang, tz=tz or settings.default_tz)
        board = await service.board_for(session, viewer, now, sections)
        title = render("board.brief.title", viewer.lang, when=format_when(now, tz=viewer.tz, lang=viewer.lang, now=now))
        names = await names_for(session, users=people_in(board))
        body, html = card(board, "brief", title=title, hint=render("board.brief.hint", viewer.lang), names=names)
        await outbox.enqueue(session, outbox.text_content(body, html), to_user=user)
    return len(who)


def register(
    registry: TimerRegistry, settings: Settings, sections: Sequence[BoardSection], duty_leader: DutyLeader
) -> None:
    async def fire(session: AsyncSession, timer: Timer, clock: Clock) -> Fired | None:
        now = clock.now()
        today = now.astimezone(ZoneInfo(settings.default_tz)).date()
        again = Fired(again_at=next_slot(now, settings)) if settings.board.briefing else None
        if not is_working_day(today) or (timer.payload or {}).get("last") == today.isoformat():
            return again
        who = await recipients(session, settings, duty_leader, now)
        await send_briefings(session, settings, sections, clock, who)
        timer.payload = {"last": today.isoformat()}
        await audit.record(
            session, actor=SYSTEM, action="board.briefing", subject=today.isoformat(), data={"to": who}, clock=clock
        )
        return again

    registry.register(KIND)(fire)
