"""What the tasks feature hands, through the wiring, to features whose records become tasks.

A meeting's action item is assigned here as a supervised task (commands.plugin.MakeTask); the
meeting keeps the task's id and code, and shows its card, without importing this feature.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from commands.tasks import service
from commands.tasks.models import Task
from records.clock import Clock


@dataclass(frozen=True)
class MadeTask:
    """A task made for another feature (commands.plugin.SupervisedTask)."""

    task: Task

    @property
    def id(self) -> int:
        return self.task.id

    @property
    def code(self) -> str:
        return self.task.code

    @property
    def card_ref(self) -> str:
        return service.card_ref(self.task.id)

    def card(self, lang: str, tz: str, now: datetime) -> str:
        return service.render_card(self.task, lang, tz, now)


async def make_task(
    session: AsyncSession,
    *,
    assigner: str,
    lead: str,
    title: str,
    due_at: datetime,
    source: str,
    room_id: str | None,
    clock: Clock,
) -> MadeTask:
    """Assign a normal-priority task with no co-owners, exactly as `!task` would."""
    task = await service.create_task(
        session,
        assigner=assigner,
        lead=lead,
        title=title,
        due_at=due_at,
        source=source,
        priority="normal",
        room_id=room_id,
        clock=clock,
    )
    return MadeTask(task)
