"""`!全局` and `!待办` in chat, through the real wiring (SQLite and PostgreSQL): one card, edited
in place when asked again the same day; the whole picture only for leaders and duty roles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from commands.board.widget import KIND as WIDGET
from records.clock import FrozenClock
from records.db import Database
from records.models import OutboxMessage
from tests.support.dispatch_chat import DispatchChat
from tests.support.need_to_know import BOSS, MEMBER, ROOM, TITLES, office_records

T0 = datetime(2026, 12, 3, 1, 0, tzinfo=UTC)  # Thursday 09:00 in Shanghai
LEADER = "@leader:localhost"
STAFF = "@staff:localhost"
ROLES = {"leader": [LEADER], "staff": [STAFF, MEMBER, BOSS]}


def chat(db: Database, clock: FrozenClock) -> DispatchChat:
    return DispatchChat(db, clock, room=ROOM, roles=ROLES, power={(ROOM, STAFF): 100})


async def test_staff_are_refused_the_whole_picture_without_usage(db: Database) -> None:
    talk = chat(db, FrozenClock(T0))
    answer = await talk.reply_to(STAFF, "!全局")
    assert "全局看板只对领导、带班领导、值班员和管理员开放" in answer
    assert "用法" not in answer
    answer = await talk.reply_to(STAFF, "!board", dm=False)
    assert "用法" not in answer


async def test_a_leader_gets_one_card_edited_in_place_and_a_link_by_dm(db: Database) -> None:
    clock = FrozenClock(T0)
    async with db.transaction() as session:
        await office_records(session, clock, first_signer=LEADER)
    talk = chat(db, clock)

    first = await talk.say(LEADER, "!全局", dm=True)
    cards = [r for r in first if r.room_id == ROOM]
    assert len(cards) == 1 and cards[0].relation is None
    body = str(cards[0].content["body"])
    assert body.startswith("📊 全局 · 12月3日（周四）09:00")
    assert "【审批】" in body and TITLES["approval"] in body
    assert "【督办】" in body and TITLES["task"] in body  # leaders oversee every task
    # People by name in the body, as pills in the HTML (the requester of the approval).
    assert "发起人：boss" in body and "@boss:localhost" not in body
    assert 'href="https://matrix.to/#/@boss:localhost"' in str(cards[0].content["formatted_body"])
    dms = [r for r in first if r.to_user == LEADER]
    assert len(dms) == 1 and "全局看板的登录链接" in str(dms[0].content["body"])
    secret = dms[0].content["zhiban.secrets"]
    assert any("/push/signin/" in url and url.endswith("?next=/board") for url in secret.values())

    clock.advance(timedelta(hours=49))  # two days on: the task is late now, and a new card
    next_day = await talk.say(LEADER, "!全局", dm=True)
    assert [r.relation for r in next_day if r.room_id == ROOM] == [None]

    clock.advance(timedelta(minutes=5))  # the same day again: the card is edited in place
    again = await talk.say(LEADER, "!全局", dm=True)
    edits = [r for r in again if r.room_id == ROOM]
    assert [r.relation for r in edits] == ["m.replace"]
    original = next(r for r in next_day if r.room_id == ROOM)
    assert edits[0].relates_to_outbox_id == original.id
    assert "🔴" in str(edits[0].content["m.new_content"]["body"])


async def test_anyone_sees_what_waits_for_them(db: Database) -> None:
    clock = FrozenClock(T0)
    async with db.transaction() as session:
        codes = await office_records(session, clock, first_signer=STAFF)
    talk = chat(db, clock)
    answer = await talk.reply_to(STAFF, "!待办", dm=True)
    assert answer.startswith("📋 我的待办")
    assert f"{codes['approval']} {TITLES['approval']}" in answer
    assert TITLES["task"] not in answer  # not theirs
    nothing = await talk.reply_to("@new:localhost", "!今日", dm=True)
    assert "暂无需要您处理的事项。" in nothing
    english = await talk.reply_to(MEMBER, "!today", dm=True)
    assert TITLES["task"] in english and TITLES["meeting"] in english


async def test_a_room_admin_pins_the_board_as_a_widget(db: Database) -> None:
    talk = chat(db, FrozenClock(T0))
    refused = await talk.reply_to(MEMBER, "!全局 挂件")
    assert "只有本群管理员可以把看板挂到本群" in refused
    sent = await talk.say(STAFF, "!全局 挂件")
    actions = [r for r in sent if r.event_type == "zhiban.action"]
    assert [a.content["kind"] for a in actions] == [WIDGET]
    assert "/board/widget?widgetId=$matrix_widget_id" in actions[0].content["payload"]["url"]
    async with db.reading() as session:
        rows = await session.scalars(select(OutboxMessage).where(OutboxMessage.event_type == "zhiban.action"))
        assert len(list(rows)) == 1


async def test_the_card_reads_in_english_for_someone_who_chose_it(db: Database) -> None:
    clock = FrozenClock(T0)
    async with db.transaction() as session:
        await office_records(session, clock, first_signer=LEADER)
    talk = chat(db, clock)
    await talk.say(LEADER, "!语言 en")
    answer = await talk.reply_to(LEADER, "!board", dm=True)
    assert answer.startswith("📊 The whole picture · Thu 3 Dec 09:00")
    assert "[Approvals]" in answer and "From: boss" in answer
    assert "the sign-in link is in your direct messages" in answer


async def test_in_a_shared_room_the_card_goes_to_the_askers_dm(db: Database) -> None:
    clock = FrozenClock(T0)
    async with db.transaction() as session:
        await office_records(session, clock, first_signer=LEADER)
    talk = chat(db, clock)
    # The card lists what the leader may see, not what the room's members may: never in the room.
    for asked in ("!全局", "!待办"):
        sent = await talk.say(LEADER, asked, dm=False)
        in_room = [r for r in sent if r.room_id == ROOM]
        assert len(in_room) == 1, in_room
        assert TITLES["approval"] not in str(in_room[0].content)
        assert str(in_room[0].content["body"]) == "已通过私信把看板卡片发给您。"
        cards = [r for r in sent if r.to_user == LEADER and TITLES["approval"] in str(r.content["body"])]
        assert len(cards) == 1


async def test_asked_in_a_shared_room_then_in_the_dm_the_same_card_is_edited(db: Database) -> None:
    clock = FrozenClock(T0)
    async with db.transaction() as session:
        await office_records(session, clock, first_signer=LEADER)
    talk = chat(db, clock)
    first = await talk.say(LEADER, "!全局", dm=False)
    card = next(r for r in first if r.to_user == LEADER and TITLES["approval"] in str(r.content["body"]))
    clock.advance(timedelta(minutes=5))
    again = await talk.say(LEADER, "!全局", dm=True)
    edits = [r for r in again if r.relation == "m.replace"]
    assert [e.relates_to_outbox_id for e in edits] == [card.id]
