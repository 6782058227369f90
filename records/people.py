"""People and roles.

A person is a Matrix user id. Roles come from the config file (the office's org chart),
from what an admin granted in chat (stored on the person), and from room power levels.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from records import deferred
from records.clock import SystemClock
from records.models import Person

# The people a transaction has read, found or not (None): asked about again and again in one
# turn (roles, language, quiet hours, display names of the same two or three people), each would
# otherwise be a SELECT, as the identity map keeps only rows that exist, and only while something
# else holds them. Dropped when the transaction ends, so that no later one sees a stale row.
_READ = deferred.per_transaction("zhiban.people_read")


def _read(session: AsyncSession | Session) -> dict[str, Person | None]:
    cache: dict[str, Person | None] = session.info.setdefault(_READ, {})
    return cache


async def load(session: AsyncSession, user_ids: Iterable[str]) -> dict[str, Person | None]:
    """The rows of these people (None for those without one), read at most once per transaction:
    those not read yet in one SELECT."""
    wanted = list(dict.fromkeys(user_ids))
    cache = _read(session)
    missing = [user for user in wanted if user not in cache]
    if missing:
        found = {p.user_id: p for p in await session.scalars(select(Person).where(Person.user_id.in_(missing)))}
        for user in missing:
            cache[user] = found.get(user)
    return {user: cache[user] for user in wanted}


async def person_of(session: AsyncSession, user_id: str) -> Person | None:
    """The person's row, read at most once per transaction whether or not it exists."""
    return (await load(session, [user_id]))[user_id]


class Role(StrEnum):
    LEADER = "leader"  # 领导
    DUTY_LEADER = "duty_leader"  # 带班领导
    DUTY_OFFICER = "duty_officer"  # 值班员
    STAFF = "staff"
    ADMIN = "admin"
    # Power level 100 in the room at hand: may manage that room's items, nothing office-wide.
    ROOM_ADMIN = "room_admin"


class RoleBook:
    """Answers "what may this person do?" from config and from the database."""

    def __init__(self, configured: Mapping[str, Iterable[str]] | None = None) -> None:
        # Config maps a role to the users who have it: {"leader": ["@zhang:office"]}.
        self._by_user: dict[str, set[str]] = {}
        for role, users in (configured or {}).items():
            if role == Role.ROOM_ADMIN.value:
                raise ValueError("room_admin comes from room power levels; it cannot be configured")
            for user in users:
                self._by_user.setdefault(user, set()).add(Role(role).value)

    async def roles_of(self, session: AsyncSession, user_id: str, *, power_level: int = 0) -> set[str]:
        roles = {Role.STAFF.value} | self._by_user.get(user_id, set())
        person = await person_of(session, user_id)
        if person is not None:
            roles |= set(person.roles or [])
        if power_level >= 100:
            roles.add(Role.ROOM_ADMIN.value)
        return roles

    async def has_role(self, session: AsyncSession, user_id: str, *roles: str, power_level: int = 0) -> bool:
        return bool(await self.roles_of(session, user_id, power_level=power_level) & set(roles))

    def configured(self, role: str) -> list[str]:
        return sorted(user for user, roles in self._by_user.items() if role in roles)

    def everyone(self) -> list[str]:
        """Every person the config gives a role (the office's org chart)."""
        return sorted(self._by_user)


async def ensure_person(session: AsyncSession, user_id: str) -> Person:
    person = await person_of(session, user_id)
    if person is None:
        person = Person(user_id=user_id, roles=[], created_at=SystemClock().now())
        session.add(person)
        await session.flush()
        _read(session)[user_id] = person
    return person


@event.listens_for(Session, "before_flush")
def _note_people_changes(session: Session, _context: object, _instances: object) -> None:
    """Remember whose preferences a transaction changed, so caches of them can be dropped."""
    changed = {o.user_id for o in (*session.new, *session.dirty) if isinstance(o, Person)}
    if changed:
        session.info.setdefault("people_changed", set()).update(changed)


async def preferences(session: AsyncSession, user_id: str) -> tuple[str | None, str | None]:
    """The user's (language, time zone), None where they kept the default."""
    person = await person_of(session, user_id)
    return (None, None) if person is None else (person.lang, person.tz)


async def display_names(session: AsyncSession, user_ids: Iterable[str]) -> dict[str, str]:
    """The display names the office has learnt for these people (those it knows no name of are
    left out)."""
    rows = await load(session, user_ids)
    names = {user: p.display_name if p is not None else None for user, p in rows.items()}
    return {user: name for user, name in names.items() if name and name.strip()}


async def phones(session: AsyncSession, user_ids: Iterable[str]) -> dict[str, str]:
    """The phone numbers the roster gave for these people (those without one are left out)."""
    wanted = list(dict.fromkeys(user_ids))
    if not wanted:
        return {}
    rows = await session.execute(
        select(Person.user_id, Person.phone).where(Person.user_id.in_(wanted), Person.phone.is_not(None))
    )
    return {user: phone for user, phone in rows if phone}


async def keep_phones(session: AsyncSession, numbers: Mapping[str, str]) -> None:
    """Keep the phone numbers a roster gave (a newer roster's number replaces the older one)."""
    for user_id, number in numbers.items():
        person = await ensure_person(session, user_id)
        if person.phone != number:
            person.phone = number


async def learn_names(session: AsyncSession, names: Mapping[str, str | None]) -> None:
    """Keep the display names the homeserver gave for these people, so that texts written
    where no client is at hand (timers, workers) show them by name too."""
    for user_id, name in names.items():
        name = (name or "").strip()[:255]
        if not name or not user_id.startswith("@"):
            continue
        person = await ensure_person(session, user_id)
        if person.display_name != name:
            person.display_name = name
