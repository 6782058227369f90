"""What the meeting handlers share: reading arguments, loading the meeting named, the user's terms."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from bot import CommandObject, Message, UserFacingError
from commands.meetings import access, service
from commands.meetings.models import Meeting
from commands.meetings.policy import MeetingPolicy
from commands.turn import Turn
from records.errors import DomainError
from timeparse import TimeParseError, format_when

CANCEL_WORDS = {"取消", "cancel", "放弃", "算了", "abort"}
NONE_WORDS = {"无", "没有", "待定", "none", "no", "-", "skip", "跳过"}


def policy_of(turn: Turn) -> MeetingPolicy:
    return MeetingPolicy.from_settings(turn.settings)


def args_of(message: Message, command: CommandObject, turn: Turn) -> str:
    """Everything after the command word, mentions as full IDs."""
    full = turn.full_text(message)
    return re.sub(rf"^.*?{re.escape(command.invoked)}\s*", "", full, count=1, flags=re.S).strip()


def split_code(text: str) -> tuple[int, str]:
    code, _, rest = text.strip().partition(" ")
    if not code:
        raise UserFacingError("meeting.need_code")
    return service.parse_code(code), rest.strip()


async def visible_meeting(message: Message, meeting_id: int, turn: Turn) -> Meeting:
    """The meeting a command names, for its sender: every meeting command, read or write, loads it here.

    Someone the one rule (access.can_see) does not admit is told it does not exist; only then
    are the room and the action's own rule checked, since "it belongs to another room" or
    "you are not invited" would confirm that it is there.
    """
    meeting = await service.get_meeting(turn.session, meeting_id)
    roles = await turn.resolve_roles(message.sender)
    await access.require_visible(turn.session, meeting, message.sender, roles)
    service.check_room(meeting, message.room_id, is_dm=message.is_dm)
    return meeting


async def named_meeting(message: Message, args: str, turn: Turn) -> tuple[Meeting, str]:
    """The meeting named first in `args` (M3), loaded as `visible_meeting` does, and the rest of them."""
    meeting_id, rest = split_code(args)
    return await visible_meeting(message, meeting_id, turn), rest


async def is_admin(turn: Turn, user: str) -> bool:
    return "admin" in await turn.resolve_roles(user)


@contextmanager
def user_terms(turn: Turn) -> Iterator[None]:
    """Service refusals and time errors as the user's mistakes, with times in their zone."""
    now = turn.clock.now()
    try:
        yield
    except TimeParseError as exc:
        raise UserFacingError.with_params(exc.key, exc.params) from None
    except DomainError as exc:
        params = {
            k: format_when(v, tz=turn.tz, lang=turn.lang, now=now) if isinstance(v, datetime) else v
            for k, v in exc.params.items()
        }
        raise UserFacingError(exc.key, **params) from None
