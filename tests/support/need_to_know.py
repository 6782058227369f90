"""The office the need-to-know tests run in: its people, one record of each kind, and the chat.

Every record is started by BOSS in ROOM with MEMBER on it; STRANGER is on nothing but holds
power level 100 in ROOM, which must not help. A reply that holds a record's title has shown it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from commands.approvals import service as approvals
from commands.approvals.chain import parse_chain
from commands.meetings import service as meetings
from commands.meetings.policy import MeetingPolicy
from commands.tasks import reminders
from commands.tasks import service as tasks
from commands.tasks.models import Reminder
from records.clock import FrozenClock
from records.db import Database
from tests.support.dispatch_chat import DispatchChat

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
ROOM = "!office:localhost"
OTHER_ROOM = "!canteen:localhost"
BOSS = "@boss:localhost"  # starts every record
MEMBER = "@member:localhost"  # on every record, never its author
ADMIN = "@admin:localhost"  # the office-wide admin role
STRANGER = "@stranger:localhost"  # on nothing; power level 100 in ROOM, which must not help

# One secret title per record kind: a reply that contains it has shown the record.
TITLES = {
    "approval": "关于蓄滞洪区转移安置经费的请示",
    "meeting": "蓄滞洪区启用专题会商",
    "task": "核查蓄滞洪区群众转移名单",
    "reminder": "报送蓄滞洪区转移进度",
}


async def office_records(session: AsyncSession, clock: FrozenClock, *, first_signer: str) -> dict[str, str]:
    """An approval (`first_signer`, then MEMBER), a meeting and a task in ROOM; their codes by kind.

    MEMBER signs only the approval's second step: any step admits, not only the current one.
    """
    approval = await approvals.start_approval(
        session,
        requester=BOSS,
        title=TITLES["approval"],
        steps=parse_chain(f"{first_signer} > {MEMBER}"),
        room_id=ROOM,
        clock=clock,
    )
    meeting = await meetings.create_meeting(
        session,
        organizer=BOSS,
        title=TITLES["meeting"],
        starts_at=clock.now() + timedelta(hours=3),
        place="三楼会议室",
        attendees=[MEMBER],
        room_id=ROOM,
        policy=MeetingPolicy(),
        clock=clock,
    )
    task = await tasks.create_task(
        session,
        assigner=BOSS,
        lead=MEMBER,
        title=TITLES["task"],
        due_at=clock.now() + timedelta(days=2),
        room_id=ROOM,
        clock=clock,
    )
    return {"approval": approval.code, "meeting": meeting.code, "task": task.code}


async def add_reminder(session: AsyncSession, clock: FrozenClock, *, owner: str, target: str, text: str) -> Reminder:
    """A one-off reminder set in ROOM for an hour from now (`target`: "me" or "room")."""
    return await reminders.create_reminder(
        session,
        owner=owner,
        target=target,
        room_id=ROOM,
        text=text,
        due_at=clock.now() + timedelta(hours=1),
        rule=None,
        tz="Asia/Shanghai",
        lang="zh",
        alarm=False,
        clock=clock,
    )


def office_chat(db: Database, clock: FrozenClock, roles: Mapping[str, Sequence[str]]) -> DispatchChat:
    """The real dispatcher, with the office roles given and STRANGER at power level 100 in ROOM."""
    return DispatchChat(db, clock, room=ROOM, roles=dict(roles), power={(ROOM, STRANGER): 100})
