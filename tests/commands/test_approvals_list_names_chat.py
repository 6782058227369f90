"""`!审批列表` says whom each pending approval waits on, by display name (a pill), not Matrix ID."""

from __future__ import annotations

from records.clock import FrozenClock
from records.db import Database
from records.models import Person
from tests.commands.test_approvals_reading_chat import TITLE, _start
from tests.commands.test_tasks_chat import BOSS, LEAD, T0, Chat


async def test_the_list_names_whom_an_approval_waits_on(db: Database) -> None:
    chat = Chat(db, FrozenClock(T0))
    async with db.transaction() as session:
        session.add(Person(user_id=LEAD, display_name="赵处长", roles=[], created_at=T0))
    code = await _start(db, chat.clock)

    sent = await chat.say(BOSS, "!审批列表")
    (answer,) = [m.content for m in sent]
    assert f"  {code} · {TITLE} · 审批中 · 第1步（待赵处长审批）" in answer["body"].split("\n"), answer["body"]
    assert '<a href="https://matrix.to/#/@lead:localhost">赵处长</a>' in answer["formatted_body"]
    everything = await chat.reply_to(BOSS, "!审批列表 全部")
    assert "第1步（待赵处长审批）" in everything and "@" not in everything, everything
