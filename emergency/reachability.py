"""Direct-message rooms with everyone an alert may reach, opened before the first alert.

At 3 a.m. an incident alert goes to a hundred people. Opening a DM room is one room creation
at the homeserver each (about 15 a second on a small Synapse), so opening them during the
alert would delay it by several seconds. The bot instead greets each configured person once,
at start, which opens the room; the alert then only sends.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from bot.client import BotClient
from emergency.policy import Policy
from notifications import reach, welcome
from records import kv, outbox
from records.config import Settings
from records.db import Database


def people_to_reach(policy: Policy, configured_roles: dict[str, list[str]], alert_roles: Iterable[str]) -> list[str]:
    """Responders of every class and grade, and everyone in a role that alerts reach."""
    people: set[str] = set()
    for rule in policy.responders:
        people.update(rule.users)
    for role in {*alert_roles, "leader", "duty_leader", "duty_officer"}:
        people.update(configured_roles.get(role, []))
    return sorted(people)


async def open_direct_rooms(session: AsyncSession, people: Iterable[str], bot_user: str, lang: str) -> int:
    """Queue the bot's introduction (notifications.welcome) to each person who has had none;
    returns how many were queued. Recorded as it is queued, so the relay does not introduce
    the bot a second time before it."""
    queued = 0
    for person in people:
        if person == bot_user or await welcome.introduced(session, person):
            continue
        await reach.dm(session, person, welcome.introduction(await reach.language_of(session, person, lang)))
        await kv.put(session, welcome.GREETED + person, "1")
        queued += 1
    return queued


async def greet_at_start(settings: Settings, db: Database, client: BotClient | None = None) -> None:
    """At bot start: greet everyone an alert may reach once, so their DM rooms exist before the
    first alert. Without a client (a dispatcher in a test), the configured bot user greets."""
    people = people_to_reach(Policy.from_settings(settings.emergency), settings.roles, settings.emergency.alert_roles)
    async with db.transaction() as session:
        bot_user = client.user_id if client is not None else settings.matrix.user_id
        await open_direct_rooms(session, people, bot_user, settings.default_lang)
    outbox.wake_relay()
