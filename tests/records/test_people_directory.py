"""The one resolution of people: every way of naming someone, and every way of getting it wrong.

On SQLite and PostgreSQL (people on record are rows); the room's members and the homeserver's
accounts come from a stand-in for the bot client.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.mentions import RoomMembers, text_with_ids
from records import people
from records.db import Database
from records.directory import PeopleDirectory
from records.errors import DomainError
from records.models import Person

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
ROOM = "!office:office.gov"
WANG = "@wang:office.gov"
LI = "@li:office.gov"
CHU = "@chu:office.gov"
ZHAO = "@zhao:office.gov"


class Client:
    """What the bot client answers: the room's members and whether an account exists."""

    def members(self, room_id: str) -> dict[str, str | None]:
        return {WANG: "王伟", "@wang.wei:partner.org": "Wang Wei"} if room_id == ROOM else {}

    async def registered(self, user_id: str) -> bool:
        return user_id in {WANG, LI, CHU, ZHAO}


async def _on_record(db: Database, *people: tuple[str, str]) -> None:
    async with db.transaction() as session:
        for user_id, name in people:
            session.add(Person(user_id=user_id, display_name=name, roles=[], created_at=T0))


def _directory(session: AsyncSession) -> PeopleDirectory:
    return PeopleDirectory(session, ROOM, lookup=RoomMembers(Client()), configured=[CHU], server="office.gov")


async def test_each_way_of_naming_someone(db: Database) -> None:
    await _on_record(db, (LI, "李娜"))
    async with db.reading() as session:
        await _each_way(_directory(session))


async def _each_way(people: PeopleDirectory) -> None:
    # A pill: the client sends the display name in the body and the ID in the HTML.
    pill = text_with_ids("王伟: 请阅", '<a href="https://matrix.to/#/@wang:office.gov">王伟</a>: 请阅', "office.gov")
    assert await people.resolve_text(pill) == f"{WANG}: 请阅"
    assert await people.resolve_text(f"交 {WANG} 办理") == f"交 {WANG} 办理"  # a full ID
    assert await people.resolve_text("交 @zhao:office.gov") == f"交 {ZHAO}"  # an account, in no room
    assert await people.resolve_text("交 @Chu:office.gov") == f"交 {CHU}"  # the config's, any case
    # Display names: a member's, one on record, Chinese ones running into the next word, the
    # full-width ＠ of Chinese keyboards, and a Latin name with a space.
    assert await people.resolve_text("@王伟截止明天") == f"{WANG}截止明天"
    assert await people.resolve_text("＠李娜 牵头") == f"{LI} 牵头"
    assert await people.resolve_text("@Wang Wei and @李娜") == f"@wang.wei:partner.org and {LI}"
    # ... also once `@short` completion has cut it after its first word.
    typed = text_with_ids("@Wang Wei 牵头", None, "office.gov")
    assert await people.resolve_text(typed) == "@wang.wei:partner.org 牵头"
    # Not mentions: an e-mail address, a lone @.
    assert await people.resolve_text("mail chu@office.gov @ 3楼") == "mail chu@office.gov @ 3楼"


async def test_unknown_and_ambiguous_people_are_named(db: Database) -> None:
    await _on_record(db, (LI, "李娜"))
    async with db.reading() as session:
        await _unknown(_directory(session))
    await _on_record(db, ("@wang2:office.gov", "王伟"))
    async with db.reading() as session:
        with pytest.raises(DomainError) as ambiguous:
            await _directory(session).resolve_text("@王伟")
    assert ambiguous.value.key == "people.ambiguous"
    assert WANG in ambiguous.value.params["choices"] and "@wang2:office.gov" in ambiguous.value.params["choices"]


async def _unknown(people: PeopleDirectory) -> None:
    with pytest.raises(DomainError) as unknown:
        await people.resolve_text("@nobody-xyz:office.gov")
    assert (unknown.value.key, unknown.value.params["who"]) == ("people.unknown", "@nobody-xyz:office.gov")

    with pytest.raises(DomainError) as homophone:  # 王为 sounds like 王伟 on a pinyin keyboard
        await people.resolve_text("@王为 截止明天")
    assert homophone.value.key == "people.unknown_suggest"
    assert homophone.value.params == {"who": "@王为", "suggest": f"王伟 ({WANG})"}

    with pytest.raises(DomainError) as several:  # one answer names everyone not found
        await people.resolve_text("@nobody-a:office.gov @王伟 @nobody-b:office.gov")
    assert several.value.params["who"] == "@nobody-a:office.gov、@nobody-b:office.gov"

    with pytest.raises(DomainError) as typo:
        await people.resolve_text("@wnag:office.gov")
    assert typo.value.key == "people.unknown_suggest" and WANG in typo.value.params["suggest"]


async def test_without_a_client_only_the_office_records_are_known(db: Database) -> None:
    """A test double or a worker with no client: a well-formed ID cannot be checked and is kept."""
    async with db.reading() as session:
        people = PeopleDirectory(session, ROOM, lookup=RoomMembers(None), server="office.gov")
        assert await people.resolve_text("@someone:office.gov") == "@someone:office.gov"
        with pytest.raises(DomainError):
            await people.resolve_text("@王伟")  # a display name nobody has on record


class ProfileClient(Client):
    """The homeserver also tells the display name of an account it was asked about."""

    def profile_name(self, user_id: str) -> str | None:
        return {ZHAO: "赵处长"}.get(user_id)


async def test_someone_found_only_by_profile_is_kept_by_name(db: Database) -> None:
    # 赵处长 shares no room with the bot: the profile look-up that finds the account gives the
    # name, and every later message shows him by it, not as "zhao".
    async with db.transaction() as session:
        directory = PeopleDirectory(
            session, ROOM, lookup=RoomMembers(ProfileClient()), configured=[], server="office.gov"
        )
        assert await directory.resolve_text("请 @zhao:office.gov 审批") == f"请 {ZHAO} 审批"
    async with db.reading() as session:
        assert await people.display_names(session, [ZHAO]) == {ZHAO: "赵处长"}
