"""What an approval command names: the approval (A12, or the card it answers), people, the rest.

Every handler that names an approval comes through `approval_of`, so each first asks the one
rule (access.can_see) before anything else could confirm that the approval exists.
"""

from __future__ import annotations

import re

from bot import CommandObject, Message, UserFacingError
from bot.mentions import user_ids_in
from commands.approvals import access, service
from commands.approvals.chain import ChainError
from commands.approvals.models import Approval
from commands.turn import Turn
from records import outbox

CODE_FIRST = re.compile(r"^\s*[Aa](\d{1,12})(?![\w])\s*(.*)$", re.S)


def args_of(message: Message, command: CommandObject, turn: Turn) -> str:
    """Everything after the command word, with mentions as full Matrix IDs."""
    full = turn.full_text(message)
    return re.sub(rf"^.*?{re.escape(command.invoked)}\s*", "", full, count=1, flags=re.S | re.I).strip()


def domain(exc: ChainError) -> UserFacingError:
    return UserFacingError(exc.key, **exc.params)


async def named(turn: Turn, text: str) -> str:
    """`text` with every person it names as a full Matrix ID (records.directory).

    An unknown or ambiguous @person is refused before anything is stored: a typo must not
    stall a chain.
    """
    return await turn.directory.resolve_text(text)


def one_person(text: str) -> str:
    people = user_ids_in(text)
    if len(people) != 1:
        raise UserFacingError("approval.need_person")
    return people[0]


async def roles_of(turn: Turn, user: str) -> set[str]:
    """The viewer's office-wide roles (room power levels grant nothing on approvals)."""
    return set(await turn.roles.roles_of(turn.session, user))


async def visible(turn: Turn, approval_id: int, viewer: str) -> Approval:
    """The approval, if `viewer` may see it; otherwise the answer for one that does not exist."""
    approval = await service.get_approval(turn.session, approval_id)
    await access.require_visible(turn.session, approval, viewer, await roles_of(turn, viewer))
    return approval


async def approval_of(message: Message, turn: Turn, args: str) -> tuple[Approval, str]:
    """The approval named first in `args` (A12), else the card this message replies to or threads on.

    Reads and writes alike: someone the rule does not admit is told the approval does not
    exist, before the room is checked and before the action's own rule ("not an approver",
    "it belongs to another room") could confirm that it is there.
    """
    match = CODE_FIRST.match(args)
    approval_id: int | None = None
    if match:
        approval_id, rest = int(match.group(1)), match.group(2).strip()
    else:
        for event_id in (message.reply_to, message.thread_root):
            if event_id:
                approval_id = service.parse_ref(await outbox.ref_for_event(turn.session, event_id))
                if approval_id is not None:
                    break
        if approval_id is None:
            raise UserFacingError("approval.need_code")
        rest = args.strip()
    approval = await visible(turn, approval_id, message.sender)
    if not message.is_dm and approval.room_id != message.room_id:
        raise UserFacingError("approval.other_room", code=approval.code)
    return approval, rest
