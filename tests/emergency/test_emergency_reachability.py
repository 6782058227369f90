"""Everyone an alert may reach is greeted once, so the DM room exists before the first alert."""

from __future__ import annotations

from sqlalchemy import select

from emergency.policy import Policy
from emergency.reachability import open_direct_rooms, people_to_reach
from records.config import Settings
from records.db import Database
from records.models import OutboxMessage


def test_people_to_reach_are_responders_and_alerted_roles() -> None:
    settings = Settings(
        roles={"leader": ["@zhang:o"], "duty_officer": ["@li:o"], "admin": ["@it:o"]},
        emergency={"responders": [{"classes": ["自然灾害"], "grades": [1], "users": ["@fire:o", "@li:o"]}]},
    )
    people = people_to_reach(Policy.from_settings(settings.emergency), settings.roles, ["leader"])
    assert people == ["@fire:o", "@li:o", "@zhang:o"]


async def test_each_person_is_greeted_once(db: Database) -> None:
    for _ in range(2):
        async with db.transaction() as session:
            await open_direct_rooms(session, ["@fire:o", "@li:o", "@bot:o"], "@bot:o", "zh")
    async with db.transaction() as session:
        rows = list(await session.scalars(select(OutboxMessage)))
    assert sorted(r.to_user or "" for r in rows) == ["@fire:o", "@li:o"]
    # The greeting is the bot's one introduction: a first DM later is not introduced again.
    assert all("值班助手" in r.content["body"] and "!帮助" in r.content["body"] for r in rows)
    assert all(len(r.content["body"].splitlines()) == 3 for r in rows)
