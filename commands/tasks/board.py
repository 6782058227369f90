"""The tasks section of the board (督办): overdue and at-risk tasks, grouped by their lead.

Each task passes access.can_see, the rule of `!督办 查看`: leaders and admins oversee every
task, anyone else sees the tasks they assigned or work on. Owners may report progress or
finish a task from the board; the assigner and overseers only read.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from commands import visibility
from commands.board_section import Action, Item, Section, Viewer
from commands.tasks import access
from commands.tasks.models import Task
from commands.tasks.texts import render
from timeparse import format_duration, format_when

LIMIT = 15
#: A task due within this is at risk (unless already finished and waiting for acceptance).
AT_RISK = timedelta(hours=48)


def _item(task: Task, viewer: Viewer, now: datetime) -> Item:
    lang = viewer.lang
    late = task.due_at <= now
    left = format_duration(abs((task.due_at - now).total_seconds()), lang)
    lines = (
        render("board.tasks.due", lang, when=format_when(task.due_at, tz=viewer.tz, lang=lang, now=now, hints=True)),
        render("board.tasks.late" if late else "board.tasks.left", lang, span=left),
        render("board.tasks.progress", lang, percent=task.progress),
    )
    actions: tuple[Action, ...] = ()
    if viewer.user_id in task.owners:
        actions = (
            Action("progress", task.code, render("board.tasks.act_progress", lang), needs_text=True),
            Action("done", task.code, render("board.tasks.act_done", lang)),
        )
    return Item(
        ref=task.code, title=task.title, lines=lines, late=late, due=task.due_at, actions=actions, group=task.lead
    )


async def tasks_section(session: AsyncSession, viewer: Viewer, now: datetime) -> Section:
    query = select(Task).where(Task.status == "open", Task.due_at <= now + AT_RISK)
    if not access.TASK_OVERSIGHT & viewer.roles:
        mine = visibility.json_names(Task.co_owners, viewer.user_id)
        query = query.where(or_(Task.assigner == viewer.user_id, Task.lead == viewer.user_id, mine))
    query = query.order_by(Task.due_at, Task.id)
    found = await visibility.first_visible(access.can_see, session, query, viewer.user_id, viewer.roles, limit=LIMIT)
    items = sorted((_item(task, viewer, now) for task in found), key=lambda item: (item.group or "", item.due or now))
    return Section(
        key="tasks",
        title=render("board.tasks.title", viewer.lang),
        items=tuple(items),
        empty=render("board.tasks.empty", viewer.lang),
    )
