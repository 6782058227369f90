"""Need-to-know in the emergency feature, through the real dispatcher on SQLite and PostgreSQL.

Every row of the "## Emergency" table of docs/need-to-know.md is run as a stranger (refused: the
very answer given before the incident existed, with no title, instruction or log text in it), as
a member of the incident and as an admin (both see it). Focused tests follow for the reported
leaks (`!时间线 E1`, `!指令列表 E1` from another room) and for the other read paths.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from emergency.models import Receipt
from records.clock import FrozenClock
from records.db import Database
from records.models import OutboxMessage, Person
from tests.emergency.test_emergency_chat import (
    INCIDENT_ROOM,
    LEADER,
    OFFICER,
    STAFF_A,
    STAFF_B,
    STRANGER,
    T0,
    Chat,
    _open_incident,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "need-to-know.md"
ADMIN = "@admin:localhost"
ELSEWHERE = "!elsewhere:localhost"  # a room that has nothing to do with the incident
TITLE = "城东内涝"  # the title `_open_incident` gives E1
ORDER_TEXT = "三十分钟内到城东泵站集合"
LOG_TEXT = "和平路积水三十厘米"
SECRETS = (TITLE, ORDER_TEXT, LOG_TEXT)
# What `{placeholder}` in an example stands for: the records `_fill` creates.
IDS = {"incident": "E1", "order": "O1"}


def emergency_rows() -> list[tuple[str, str]]:
    """(command, example) of each row of the Emergency table, the example's backticks removed."""
    section = DOC.read_text(encoding="utf-8").split("\n## Emergency", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) != 4 or cells[0] == "command" or set(cells[0]) <= {"-"}:
            continue
        rows.append((cells[0], cells[3].strip("`")))
    return rows


def _command(example: str) -> str:
    return example.format(**IDS)


async def _fill(chat: Chat, db: Database, clock: FrozenClock) -> None:
    """E1 (STAFF_A a responder), its order O1 to STAFF_A, and a duty-log line filed in its room."""
    await _open_incident(db, clock)
    await chat.say(LEADER, f"!指令 {STAFF_A} {ORDER_TEXT}", INCIDENT_ROOM)
    await chat.say(OFFICER, f"!值班记录 来源:城东街道 {LOG_TEXT}", INCIDENT_ROOM)


async def _make_admin(db: Database, clock: FrozenClock) -> None:
    async with db.transaction() as session:
        session.add(Person(user_id=ADMIN, roles=["admin"], created_at=clock.now()))


def _hides_everything(body: str) -> None:
    for secret in SECRETS:
        assert secret not in body, body


def _shows_something(body: str) -> None:
    assert any(secret in body for secret in SECRETS), body


def test_the_emergency_table_covers_the_read_commands() -> None:
    examples = [example for _, example in emergency_rows()]
    assert any(e.startswith("!时间线") for e in examples), examples
    assert any(e.startswith("!指令列表") for e in examples), examples
    assert any(e.startswith("!应急") and "{" not in e for e in examples), examples
    assert all(e.startswith("!") for e in examples), examples


async def test_every_row_of_the_table_is_need_to_know(db: Database) -> None:
    clock = FrozenClock(T0)
    chat = Chat(db, clock)
    await _make_admin(db, clock)
    rows = emergency_rows()
    # What a stranger hears while nothing exists: the reference for "does not confirm it exists".
    before = {example: await chat.reply_to(STRANGER, _command(example), ELSEWHERE) for _, example in rows}
    await _fill(chat, db, clock)

    for command, example in rows:
        stranger = await chat.reply_to(STRANGER, _command(example), ELSEWHERE)
        assert stranger == before[example], (command, stranger, before[example])
        _hides_everything(stranger)
        member = await chat.reply_to(STAFF_A, _command(example), ELSEWHERE)
        _shows_something(member)
        admin = await chat.reply_to(ADMIN, _command(example), ELSEWHERE)
        _shows_something(admin)


async def test_a_stranger_in_another_room_cannot_read_the_timeline(db: Database) -> None:
    clock = FrozenClock(T0)
    chat = Chat(db, clock)
    unknown = await chat.reply_to(STRANGER, "!时间线 E1", ELSEWHERE)
    await _fill(chat, db, clock)

    refused = await chat.reply_to(STRANGER, "!时间线 E1", ELSEWHERE)
    assert refused == unknown and "没有事件 E1" in refused
    _hides_everything(refused)
    # In English too, word for word the answer to an id that does not exist.
    await chat.say(STRANGER, "!lang en", ELSEWHERE)
    english = await chat.reply_to(STRANGER, "!timeline E1", ELSEWHERE)
    assert english == (await chat.reply_to(STRANGER, "!timeline E9", ELSEWHERE)).replace("E9", "E1")
    assert "No incident E1" in english


async def test_a_stranger_in_another_room_cannot_read_the_orders(db: Database) -> None:
    clock = FrozenClock(T0)
    chat = Chat(db, clock)
    unknown = await chat.reply_to(STRANGER, "!指令列表 E1", ELSEWHERE)
    await _fill(chat, db, clock)

    refused = await chat.reply_to(STRANGER, "!指令列表 E1", ELSEWHERE)
    assert refused == unknown and "没有事件 E1" in refused
    _hides_everything(refused)
    assert ORDER_TEXT in await chat.reply_to(STAFF_A, "!指令列表 E1", ELSEWHERE)


async def test_acknowledging_an_order_one_may_not_see_reveals_nothing(db: Database) -> None:
    clock = FrozenClock(T0)
    chat = Chat(db, clock)
    unknown_ack = await chat.reply_to(STRANGER, "!收到 O1", ELSEWHERE)
    unknown_done = await chat.reply_to(STRANGER, "!已完成 O1 到了", ELSEWHERE)
    await _fill(chat, db, clock)

    assert await chat.reply_to(STRANGER, "!收到 O1", ELSEWHERE) == unknown_ack
    assert await chat.reply_to(STRANGER, "!已完成 O1 到了", ELSEWHERE) == unknown_done
    assert "没有指令 O1" in unknown_ack
    # A ✅ sent from another room on the order's card is answered the same way and changes nothing.
    async with db.reading() as session:
        card = await session.scalar(select(OutboxMessage).where(OutboxMessage.ref == "card:O1"))
    assert card is not None and card.event_id
    sent = await chat.react(STRANGER, card.event_id, "✅", ELSEWHERE)
    bodies = [str(r.content.get("body")) for r in sent if r.room_id == ELSEWHERE]
    assert bodies == [unknown_ack.splitlines()[0]], bodies  # a reaction's answer carries no usage
    async with db.reading() as session:
        acked = list(await session.scalars(select(Receipt.user_id).where(Receipt.acked_at.is_not(None))))
    assert acked == []
    # The recipient acknowledges as before.
    assert "已确认收到 O1" in await chat.reply_to(STAFF_A, "!收到 O1", ELSEWHERE)


async def test_a_recipient_who_is_not_a_member_sees_only_their_own_orders(db: Database) -> None:
    clock = FrozenClock(T0)
    chat = Chat(db, clock)
    await _fill(chat, db, clock)
    await chat.say(LEADER, f"!指令 {STAFF_B} 联系水务集团", INCIDENT_ROOM)

    mine = await chat.reply_to(STAFF_B, "!指令列表 E1", ELSEWHERE)
    assert "联系水务集团" in mine and "O2" in mine
    assert ORDER_TEXT not in mine and "O1" not in mine
    # The incident itself stays out of reach: timeline and card.
    assert "没有事件 E1" in await chat.reply_to(STAFF_B, "!时间线 E1", ELSEWHERE)
    assert "没有事件 E1" in await chat.reply_to(STAFF_B, "!应急 查看 E1", ELSEWHERE)


async def test_who_sees_an_incident_beyond_its_members(db: Database) -> None:
    clock = FrozenClock(T0)
    chat = Chat(db, clock)
    await _fill(chat, db, clock)

    # Anyone in the incident's own room: they read everything posted there already.
    assert TITLE in await chat.reply_to(STRANGER, "!时间线", INCIDENT_ROOM)
    # The duty roles, from anywhere.
    assert TITLE in await chat.reply_to(OFFICER, "!应急 E1", ELSEWHERE)
    assert TITLE in await chat.reply_to(LEADER, "!incident show E1", ELSEWHERE)
    # The office role "leader" alone is not enough; a role in the incident is.
    async with db.transaction() as session:
        session.add(Person(user_id=STRANGER, roles=["leader"], created_at=clock.now()))
    assert "没有事件 E1" in await chat.reply_to(STRANGER, "!应急 查看 E1", ELSEWHERE)
    await chat.say(LEADER, f"!角色 E1 联络员 {STRANGER}", ELSEWHERE)
    assert TITLE in await chat.reply_to(STRANGER, "!应急 查看 E1", ELSEWHERE)


async def test_the_duty_roster_is_office_wide_but_the_hand_over_note_is_not(db: Database) -> None:
    clock = FrozenClock(T0)
    chat = Chat(db, clock)
    await chat.say(OFFICER, "!交接班 城东泵站待修，已报水务")

    staff = await chat.reply_to(OFFICER, "!值班", ELSEWHERE)
    public = await chat.reply_to(STRANGER, "!值班", ELSEWHERE)
    assert "城东泵站待修" in staff and "城东泵站待修" not in public and "H1" not in public
    # The roster itself is the same for everyone.
    assert staff.startswith(public), (staff, public)
