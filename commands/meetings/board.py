"""The meetings section of the board: today's and tomorrow's meetings with their tallies.

Each meeting passes access.can_see, the rule of `!会议 查看` (organizer, invitees, admins);
an invitee may answer the invitation from the board.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, time, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from commands import visibility
from commands.board_section import Action, Item, Section, Viewer
from commands.meetings import access
from commands.meetings.models import ATTEND, DEPUTY, LEAVE, PENDING, SCHEDULED, Attendee, Meeting
from commands.meetings.texts import render
from timeparse import format_when

LIMIT = 15


def _window(viewer: Viewer, now: datetime) -> tuple[datetime, datetime]:
    """From the start of the viewer's today to the end of their tomorrow."""
    today = now.astimezone(viewer.zone).date()
    start = datetime.combine(today, time(), tzinfo=viewer.zone)
    return start, start + timedelta(days=2)


async def _tallies(session: AsyncSession, ids: Sequence[int]) -> dict[int, Counter[str]]:
    found: dict[int, Counter[str]] = {meeting_id: Counter() for meeting_id in ids}
    if not ids:
        return found
    rows = await session.execute(
        select(Attendee.meeting_id, Attendee.response, func.count(), func.count(Attendee.checked_in_at))
        .where(Attendee.meeting_id.in_(ids))
        .group_by(Attendee.meeting_id, Attendee.response)
    )
    for meeting_id, response, count, checked in rows.tuples():
        found[meeting_id][response] += count
        found[meeting_id]["checked_in"] += checked
    return found


async def _my_answers(session: AsyncSession, ids: Sequence[int], user: str) -> dict[int, str]:
    if not ids:
        return {}
    rows = await session.execute(
        select(Attendee.meeting_id, Attendee.response).where(Attendee.meeting_id.in_(ids), Attendee.user_id == user)
    )
    return dict(rows.tuples().all())


def _item(meeting: Meeting, tally: Counter[str], mine: str | None, viewer: Viewer, now: datetime) -> Item:
    lang = viewer.lang
    when = format_when(meeting.starts_at, tz=viewer.tz, lang=lang, now=now, hints=True)
    lines = [render("board.meetings.when", lang, when=when)]
    if meeting.place:
        lines.append(render("board.meetings.place", lang, place=meeting.place))
    invited = sum(tally[r] for r in (PENDING, ATTEND, LEAVE, DEPUTY))
    lines.append(
        render(
            "board.meetings.rsvp",
            lang,
            attend=tally[ATTEND] + tally[DEPUTY],
            leave=tally[LEAVE],
            pending=tally[PENDING],
            invited=invited,
        )
    )
    if meeting.starts_at <= now or tally["checked_in"]:
        lines.append(render("board.meetings.checked_in", lang, count=tally["checked_in"], invited=invited))
    actions: tuple[Action, ...] = ()
    if mine is not None and meeting.starts_at > now:
        actions = (
            Action("rsvp_yes", meeting.code, render("board.meetings.act_yes", lang)),
            Action("rsvp_no", meeting.code, render("board.meetings.act_no", lang), needs_text=True),
        )
    if mine is not None:
        lines.append(render(f"board.meetings.mine_{mine}", lang))
    return Item(ref=meeting.code, title=meeting.title, lines=tuple(lines), due=meeting.starts_at, actions=actions)


async def meetings_section(session: AsyncSession, viewer: Viewer, now: datetime) -> Section:
    start, end = _window(viewer, now)
    query = select(Meeting).where(Meeting.status == SCHEDULED, Meeting.starts_at >= start, Meeting.starts_at < end)
    if not visibility.is_admin(viewer.roles):
        invited = select(Attendee.meeting_id).where(Attendee.user_id == viewer.user_id)
        query = query.where(or_(Meeting.organizer == viewer.user_id, Meeting.id.in_(invited)))
    query = query.order_by(Meeting.starts_at, Meeting.id)
    found = await visibility.first_visible(access.can_see, session, query, viewer.user_id, viewer.roles, limit=LIMIT)
    ids = [meeting.id for meeting in found]
    tallies = await _tallies(session, ids)
    answers = await _my_answers(session, ids, viewer.user_id)
    items = tuple(_item(m, tallies[m.id], answers.get(m.id), viewer, now) for m in found)
    return Section(
        key="meetings",
        title=render("board.meetings.title", viewer.lang),
        items=items,
        empty=render("board.meetings.empty", viewer.lang),
    )
