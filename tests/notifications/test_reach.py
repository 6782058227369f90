"""notifications.reach: DMs, role broadcasts and pushes, written in the caller's transaction."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import select

from notifications import reach
from notifications.models import Delivery, Notice, PushSubscription
from notifications.payload import render
from records import outbox, people
from records.clock import FrozenClock
from records.db import Database
from records.models import OutboxMessage, Person

# 23:00 in Shanghai: inside a 22:00-07:00 quiet window.
NIGHT = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def _person(
    user_id: str, *, lang: str | None = None, quiet: str | None = None, roles: list[str] | None = None
) -> Person:
    return Person(
        user_id=user_id, lang=lang, tz="Asia/Shanghai", quiet_hours=quiet, roles=roles or [], created_at=NIGHT
    )


def _device(user_id: str, n: int) -> PushSubscription:
    return PushSubscription(
        user_id=user_id, endpoint=f"https://push.example/{n}", p256dh="k", auth="a", created_at=NIGHT
    )


def _greeting(who: reach.Reader) -> str:
    return "值班提醒" if who.lang == "zh" else "Duty reminder"


async def _messages(db: Database) -> list[OutboxMessage]:
    async with db.reading() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_a_dm_reaches_the_person_once_in_their_language(db: Database) -> None:
    async with db.transaction() as session:
        session.add(_person("@li:office", lang="en"))
        await session.flush()
        await reach.tell(
            session,
            ["@li:office", "@li:office", "@wang:office"],
            _greeting,
            clock=FrozenClock(NIGHT),
            lang="zh",
            tz="Asia/Shanghai",
            ref=lambda user: f"duty:{user}",
            urgent=True,
        )
    rows = await _messages(db)
    assert [(r.to_user, r.content["body"], r.ref) for r in rows] == [
        ("@li:office", "Duty reminder", "duty:@li:office"),
        ("@wang:office", "值班提醒", "duty:@wang:office"),
    ]
    assert all(r.priority == outbox.URGENT for r in rows)


async def test_nothing_is_sent_when_the_callers_transaction_rolls_back(db: Database) -> None:
    try:
        async with db.transaction() as session:
            await reach.dm(session, "@li:office", "不会发出")
            raise RuntimeError("the change failed")
    except RuntimeError:
        pass
    assert await _messages(db) == []


async def test_a_role_broadcast_reaches_each_holder_once(db: Database) -> None:
    async with db.transaction() as session:
        # Named in the config and granted in chat as well: still one message.
        session.add(_person("@zhang:office", roles=["duty_leader"]))
        session.add(_person("@zhao:office", roles=["duty_leader", "admin"]))
        session.add(_person("@staff:office", roles=["admin"]))
        await session.flush()
        readers = await reach.tell_role(
            session,
            "duty_leader",
            _greeting,
            configured=["@zhang:office", "@qian:office"],
            clock=FrozenClock(NIGHT),
            lang="zh",
            tz="Asia/Shanghai",
        )
    assert sorted(r.user_id for r in readers) == ["@qian:office", "@zhang:office", "@zhao:office"]
    assert sorted(r.to_user or "" for r in await _messages(db)) == ["@qian:office", "@zhang:office", "@zhao:office"]


async def test_quiet_hours_hold_a_routine_push_but_not_an_emergency(db: Database) -> None:
    clock = FrozenClock(NIGHT)
    async with db.transaction() as session:
        session.add(_person("@li:office", quiet="22:00-07:00"))
        session.add(_device("@li:office", 1))
        await session.flush()
        routine = await reach.push(session, ["@li:office"], kind="reminder", title="开会", body="15:00", clock=clock)
        urgent = await reach.push(session, ["@li:office"], kind="emergency", title="险情", body="河堤", clock=clock)
    assert routine is not None and urgent is not None
    async with db.reading() as session:
        status = {
            d.notice_id: d.status for d in await session.scalars(select(Delivery).where(Delivery.channel == "push"))
        }
        urgency = {n.id: n.urgency for n in await session.scalars(select(Notice))}
    assert status == {routine.notice_id: "skipped_quiet", urgent.notice_id: "queued"}
    assert urgency[urgent.notice_id] == "high"
    # The chat message is the caller's: a push never adds a DM of its own.
    assert await _messages(db) == []


async def test_a_sensitive_push_carries_no_content(db: Database) -> None:
    async with db.transaction() as session:
        session.add(_device("@li:office", 2))
        await session.flush()
        result = await reach.push(
            session,
            ["@li:office"],
            kind="approval",
            title="人事任免审批",
            body="张三任副主任",
            clock=FrozenClock(NIGHT),
            sensitive=True,
        )
    assert result is not None and result.queued == 1
    async with db.reading() as session:
        notice = await session.get(Notice, result.notice_id)
    assert notice is not None
    payload = json.loads(render(notice, "zh", topic=None))
    shown = json.dumps(payload, ensure_ascii=False)
    assert "人事任免" not in shown and "张三" not in shown
    assert payload["title"]


async def test_a_push_to_nobody_writes_nothing(db: Database) -> None:
    async with db.transaction() as session:
        assert await reach.push(session, [], kind="reminder", title="t", body="b", clock=FrozenClock(NIGHT)) is None
    async with db.reading() as session:
        assert list(await session.scalars(select(Notice))) == []


async def test_a_room_post_names_the_people_it_mentions(db: Database) -> None:
    async with db.transaction() as session:
        await people.learn_names(session, {"@li:office": "李值班"})
        await reach.post(session, "!duty:office", "请确认\n今晚值班", mention=["@li:office", "@li:office"])
    [row] = await _messages(db)
    assert row.room_id == "!duty:office"
    assert row.content["m.mentions"] == {"user_ids": ["@li:office"]}
    assert row.content["body"] == "请确认\n今晚值班\n李值班"
    assert row.content["formatted_body"] == '请确认<br>今晚值班<br><a href="https://matrix.to/#/@li:office">李值班</a>'


async def test_people_a_text_names_are_shown_by_name_and_only_those_to_act_are_mentioned(db: Database) -> None:
    async with db.transaction() as session:
        await people.learn_names(session, {"@zhao:office": "赵处长"})
        await reach.post(
            session, "!duty:office", "⚠️ @zhao:office 未确认 O1，@qian:office 已告知。", mention=["@zhao:office"]
        )
        await reach.dm(session, "@li:office", "⏰ 请确认 O1（@zhao:office）", mention=True)
    post, dm = await _messages(db)
    assert post.content["body"] == "⚠️ 赵处长 未确认 O1，qian 已告知。"  # no repeat of a name already said
    assert '<a href="https://matrix.to/#/@zhao:office">赵处长</a>' in post.content["formatted_body"]
    assert post.content["m.mentions"] == {"user_ids": ["@zhao:office"]}  # only who must act
    assert dm.content["body"] == "⏰ 请确认 O1（赵处长）" and dm.content["msgtype"] == "m.text"
    assert dm.content["m.mentions"] == {"user_ids": ["@li:office"]}
