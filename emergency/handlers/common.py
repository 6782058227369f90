"""Small helpers the emergency chat handlers share: policy, permissions, names and lookups."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot import CommandObject, UserFacingError
from bot.mentions import text_with_ids, user_ids_in
from bot.types import Message
from commands.replies import reply_named as reply_named  # the shared answer that names people
from emergency import access, incidents, roster
from emergency.models import Incident
from emergency.policy import Policy
from records.clock import Clock
from records.config import Settings
from records.people import RoleBook

DUTY_ROLES = {"duty_leader", "duty_officer", "leader", "admin"}
ROSTER_ROLES = {"duty_leader", "admin"}


def policy_of(settings: Settings) -> Policy:
    return Policy.from_settings(settings.emergency)


def text_of(message: Message, settings: Settings) -> str:
    """The message with every mention as a full Matrix ID."""
    return text_with_ids(message.body, message.html, settings.matrix.server_name)


def args_of(message: Message, settings: Settings, command: CommandObject) -> str:
    """The command's arguments with mentions as full IDs (pills resolved, `@short` completed)."""
    text = text_of(message, settings)
    _head, sep, rest = text.partition(command.invoked)
    return rest.strip() if sep else str(command.args)


def people_in(text: str, bot_user: str | None = None) -> list[str]:
    return [u for u in user_ids_in(text) if u != bot_user]


async def office_roles(session: AsyncSession, roles: RoleBook, user: str) -> set[str]:
    found: set[str] = await roles.roles_of(session, user)
    return found


async def is_duty_staff(session: AsyncSession, roles: RoleBook, user: str, clock: Clock) -> bool:
    """Duty staff: the office's duty roles, or anyone on the shift now."""
    if await office_roles(session, roles, user) & DUTY_ROLES:
        return True
    return user in await roster.on_duty(session, clock.now())


async def incident_named(session: AsyncSession, message: Message, words: list[str]) -> tuple[Incident, list[str]]:
    """The incident named first in `words` (E5), else the incident of this room; returns the rest.

    No need-to-know check: only for `!orders`, which applies the rule order by order (a recipient
    who may not see the incident still lists their own orders). Everything else goes through
    `resolve_incident`."""
    if words:
        incident_id = incidents.parse_code(words[0])
        if incident_id is not None:
            return await incidents.get(session, incident_id), words[1:]
    found = await incidents.in_room(session, message.room_id)
    if found is None:
        raise UserFacingError("em.incident.not_here")
    return found, words


async def viewer_of(session: AsyncSession, roles: RoleBook, message: Message, clock: Clock) -> access.Viewer:
    """The sender of `message`, asking from its room, as the need-to-know rule sees them."""
    return await access.viewer_of(session, roles, message.sender, room_id=message.room_id, clock=clock)


async def resolve_incident(
    session: AsyncSession, message: Message, words: list[str], viewer: access.Viewer
) -> tuple[Incident, list[str]]:
    """The incident named first in `words` (E5), else the incident of this room, as `viewer` may
    see it; returns the rest of the words.

    Every command that shows or changes an incident comes through here before its own permission
    check: one the viewer may not see is answered exactly as an id that does not exist, so that
    neither a read nor a refused change (close, grade, role) confirms that the incident exists.
    Someone who may see it but not act gets the action's own, precise refusal afterwards."""
    found, rest = await incident_named(session, message, words)
    return access.require_visible(found, viewer), rest
