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

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from commands import visibility
from commands.tasks.models import Reminder, Task
from commands.visibility import is_admin
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
    return await visibility.require(can_see, not_found, session, task, viewer, roles)


def reminder_not_found(reminder_id: int) -> NotFound:
    """The error for a missing reminder; a hidden one gets the very same."""
    return NotFound("reminder.not_found", code=f"R{reminder_id}")


async def search(
    session: AsyncSession, viewer: str, roles: Collection[str], terms: Sequence[str], *, limit: int = 10
) -> list[Task]:
    """`!search`: tasks `viewer` may see whose title holds every one of `terms`, newest first.

    Withdrawn (cancelled) tasks read as missing everywhere, so here too. The query narrows by
    the same rule (the co-owners are JSON, matched as text); `can_see` has the last word.
    """
    if not terms:
        return []
    query = select(Task).where(Task.status != "cancelled", *visibility.holds_every(Task.title, terms))
    if not TASK_OVERSIGHT & set(roles):
        co_owner = visibility.json_names(Task.co_owners, viewer)
        query = query.where(or_(Task.assigner == viewer, Task.lead == viewer, co_owner))
    query = query.order_by(Task.id.desc())
    return await visibility.first_visible(can_see, session, query, viewer, roles, limit=limit)


async def can_see_reminder(
    session: AsyncSession, reminder: Reminder, viewer: str, roles: Collection[str], *, room_id: str | None = None
) -> bool:
    """`room_id`: the room the question is asked in (None for a direct message)."""
    if viewer == reminder.owner or viewer in (reminder.subscribers or []):
        return True
    if reminder.target != "room":
        return False
    return is_admin(roles) or (room_id is not None and room_id == reminder.room_id)
