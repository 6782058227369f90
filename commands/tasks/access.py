"""Who may see a supervised task or a reminder: the one rule per record behind every read.

A task (督办) is seen by whoever assigned it, its lead and co-owners, office admins, and
leaders: supervision is how a General Office's leaders follow work through, so they oversee
every task (as `!tasks @someone` always let them). Room power level 100 (room_admin) grants
nothing on tasks: it is whoever created a Matrix room, not an office role.

A reminder is seen by whoever set it and whoever subscribed to it (👍). A room reminder is
also seen from inside its room (it is posted there, so every member sees it anyway), and by
office admins. A personal reminder stays its owner's alone, admins included.

Someone a rule does not admit gets exactly the answer for a record that does not exist, so a
refusal never confirms that the record is there.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from commands.tasks.models import Reminder, Task
from records.errors import NotFound
from records.people import Role

#: Roles that oversee every task.
TASK_OVERSIGHT = frozenset({Role.ADMIN.value, Role.LEADER.value})


async def can_see(session: AsyncSession, task: Task, viewer: str, roles: Collection[str]) -> bool:
    return viewer == task.assigner or viewer in task.owners or bool(TASK_OVERSIGHT & set(roles))


def not_found(task_id: int) -> NotFound:
    """The error for a missing task; a hidden one gets the very same."""
    return NotFound("task.not_found", code=f"T{task_id}")


async def require_visible(session: AsyncSession, task: Task, viewer: str, roles: Collection[str]) -> Task:
    if not await can_see(session, task, viewer, roles):
        raise not_found(task.id)
    return task


def reminder_not_found(reminder_id: int) -> NotFound:
    """The error for a missing reminder; a hidden one gets the very same."""
    return NotFound("reminder.not_found", code=f"R{reminder_id}")


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def search(
    session: AsyncSession, viewer: str, roles: Collection[str], terms: Sequence[str], *, limit: int = 10
) -> list[Task]:
    """`!search`: tasks `viewer` may see whose title holds every one of `terms`, newest first.

    Withdrawn (cancelled) tasks read as missing everywhere, so here too. The query narrows by
    the same rule (the co-owners are JSON, matched as text); `can_see` has the last word.
    """
    if not terms:
        return []
    query = select(Task).where(
        Task.status != "cancelled",
        *(func.lower(Task.title).like(f"%{_like_escape(term)}%", escape="\\") for term in terms),
    )
    if not TASK_OVERSIGHT & set(roles):
        co_owner = cast(Task.co_owners, String).like(f'%"{_like_escape(viewer)}"%', escape="\\")
        query = query.where(or_(Task.assigner == viewer, Task.lead == viewer, co_owner))
    found: list[Task] = []
    for task in await session.scalars(query.order_by(Task.id.desc()).limit(limit * 4)):
        if await can_see(session, task, viewer, roles):
            found.append(task)
        if len(found) == limit:
            break
    return found


async def can_see_reminder(
    session: AsyncSession, reminder: Reminder, viewer: str, roles: Collection[str], *, room_id: str | None = None
) -> bool:
    """`room_id`: the room the question is asked in (None for a direct message)."""
    if viewer == reminder.owner or viewer in (reminder.subscribers or []):
        return True
    if reminder.target != "room":
        return False
    return Role.ADMIN.value in roles or (room_id is not None and room_id == reminder.room_id)
