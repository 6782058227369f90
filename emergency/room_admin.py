"""Matrix room chores of the emergency handlers: moderator power for commanders, the duty room's id.

Both are best effort: the record of who commands an incident is `Incident.roles`, and the
duty-room notice is a courtesy copy; a homeserver refusal is logged, never shown as an error.
Handlers bring people into an incident room through an outbox action (`queue_admission`): the
relay invites them after the turn commits, so a homeserver that rate-limits (a 429 retried for
up to a minute) never holds the turn's transaction open.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from bot.client import BotClient
from bot.errors import MatrixError
from records import outbox
from records.config import Settings
from records.outbox_actions import Outcome, enqueue_action, register

log = logging.getLogger(__name__)

MODERATOR = 50
# Roles that get moderator power in the incident room (they run it: kick, redact, pin).
POWERED_ROLES = ("commander", "deputy")

# Alias -> room id, per process: an alias rarely moves, and each duty-room post would resolve it.
_resolved: dict[str, str] = {}
# Aliases already reported as unresolvable, so that the log says it once, not on every post.
_warned: set[str] = set()


def _level(value: object) -> int:
    """A power level as the homeserver sends it (a number; old rooms may hold it as a string)."""
    return int(value) if isinstance(value, int | str) and value else 0


def raised_levels(content: dict[str, object], users: Iterable[str], level: int = MODERATOR) -> dict[str, object] | None:
    """The power-levels content with each user at `level` at least; None when nothing changes.

    Only `users[...]` entries are touched and nobody is lowered: someone already above
    (an admin at 100) keeps their level.
    """
    listed = content.get("users")
    current: dict[str, int] = {u: _level(v) for u, v in listed.items()} if isinstance(listed, dict) else {}
    default = _level(content.get("users_default"))
    changed = False
    for user in users:
        if current.get(user, default) < level:
            current[user] = level
            changed = True
    if not changed:
        return None
    return {**content, "users": current}


async def make_moderators(client: BotClient, room_id: str | None, users: Iterable[str]) -> bool:
    """Give `users` moderator power (50) in `room_id`; False (and a log line) when it failed."""
    wanted = [u for u in dict.fromkeys(users) if u and u != client.user_id]
    if not room_id or not wanted:
        return False
    try:
        content = raised_levels(await client.power_levels(room_id), wanted)
        if content is not None:
            await client.set_power_levels(room_id, content)
    except MatrixError:  # the role change stands without the power level
        log.warning("could not raise %s to moderator in %s", wanted, room_id, exc_info=True)
        return False
    return True


ADMIT = "emergency.admit"


async def queue_admission(
    session: AsyncSession,
    room_id: str | None,
    users: Iterable[str],
    *,
    invite: bool = True,
    moderators: bool = False,
) -> None:
    """Invite `users` to an incident room and/or raise them to moderator, once the turn commits."""
    wanted = list(dict.fromkeys(users))
    if not room_id or not wanted or not (invite or moderators):
        return
    payload: dict[str, object] = {"room_id": room_id, "users": wanted, "invite": invite, "moderators": moderators}
    await enqueue_action(session, ADMIT, payload, room_id=room_id, priority=outbox.URGENT)


async def _nothing_to_record(_session: AsyncSession) -> None:
    return None


async def _admit(client: BotClient, payload: dict[str, object]) -> Outcome:
    """The relay's part: best effort, as ever; a refusal is logged, the roles stand."""
    room_id = str(payload["room_id"])
    listed = payload.get("users")
    # The bot itself may be listed (an incident's members when its room is made): it is in.
    users = [str(u) for u in listed if u != client.user_id] if isinstance(listed, list) else []
    if payload.get("invite") is not False:
        for user in users:
            await invite(client, room_id, user)
    if payload.get("moderators") is True:
        await make_moderators(client, room_id, users)
    return Outcome(_nothing_to_record)


register(ADMIT, _admit)


async def invite(client: BotClient, room_id: str, user: str) -> None:
    """Bring someone into an incident room; already there (or a refusal) is not an error."""
    try:
        await client.invite(room_id, user)
    except MatrixError:
        log.info("could not invite %s to %s", user, room_id, exc_info=True)


async def duty_room_id(settings: Settings, client: BotClient) -> str | None:
    """`settings.duty_room` as a room id: an alias (#duty:server) is resolved once per process.

    None when no duty room is configured or the alias does not resolve (logged once; the
    caller skips the duty-room post). A failed lookup is retried next time: the alias may be
    created later, and a network blip should not silence the duty room until a restart.
    """
    configured = settings.duty_room.strip()
    if not configured:
        return None
    if not configured.startswith("#"):
        return configured
    if configured in _resolved:
        return _resolved[configured]
    try:
        room_id = await client.resolve_alias(configured)
    except MatrixError:
        if configured not in _warned:
            _warned.add(configured)
            log.warning("the duty room alias %s does not resolve; duty-room notices are skipped", configured)
        return None
    _resolved[configured] = room_id
    _warned.discard(configured)
    return room_id


def forget_resolved() -> None:
    """Drop the alias cache (tests that configure several bots in one process)."""
    _resolved.clear()
    _warned.clear()
