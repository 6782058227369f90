"""An admin resets a colleague's step-up authenticators (their only one was a lost phone),
through a real homeserver: the admin's answer in the room, the colleague's DM, a stranger's
refusal, and `!安全` showing the colleague they have none left."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from records.db import Database
from records.models import AuditEntry
from records.stepup import TotpSecret
from tests.e2e.conftest import MakeBot
from tests.support.fixtures import MakeUser

pytestmark = pytest.mark.e2e


async def test_an_admin_resets_a_colleagues_lost_phone(make_bot: MakeBot, make_user: MakeUser) -> None:
    alice = await make_user("alice")  # the admin
    bob = await make_user("bob")  # lost his phone
    carol = await make_user("carol")  # neither
    bot = await make_bot(e2ee=False, roles={"admin": [alice.user_id]})
    room = await alice.create_room(invite=[bot.user_id, bob.user_id, carol.user_id])
    for member in (bot.user_id, bob.user_id, carol.user_id):
        await alice.wait_for_member(room, member)
    db = Database(bot.settings.database_url)
    try:
        now = datetime.now(UTC)
        async with db.transaction() as session:
            session.add(TotpSecret(user_id=bob.user_id, secret="JBSWY3DPEHPK3PXP", created_at=now, confirmed_at=now))

        mark, bob_mark = alice.mark(), bob.mark()
        await carol.send_text(room, f"!安全 重置 {bob.user_id}")
        await alice.wait_for_message(room, sender=bot.user_id, contains="只有管理员", since=mark)

        await alice.send_text(room, f"!安全 重置 {bob.user_id}")
        done = await alice.wait_for_message(room, sender=bot.user_id, contains="已重置", since=mark)
        assert bob.user_id in (done.body or "") and "已私信通知本人" in (done.body or "")
        told = await bob.wait_for(
            lambda item: (
                item.sender == bot.user_id
                and item.room_id != room
                and item.type == "m.room.message"
                and "重置" in (item.body or "")
            ),
            since=bob_mark,
        )
        assert alice.user_id in (told.body or "") and "/security" in (told.body or "")
        # The enrolment code reaches the admin alone, by DM, the relay having put the real code in.
        handed = await alice.wait_for(
            lambda item: item.sender == bot.user_id and item.room_id != room and "登记码" in (item.body or ""),
            since=mark,
        )
        assert re.search(r"[A-Z2-9]{5}-[A-Z2-9]{5}", handed.body or "") and "[enrolment-code]" not in (
            handed.body or ""
        )
        assert "登记码已私信发给您" in (done.body or "")

        await bob.send_text(room, "!安全")
        shown = await bob.wait_for_message(room, sender=bot.user_id, contains="还没有验证方式", since=bob_mark)
        assert "/security" in (shown.body or "")
        async with db.reading() as session:
            assert await session.get(TotpSecret, bob.user_id) is None
            actions = [
                a.action for a in await session.scalars(select(AuditEntry).where(AuditEntry.subject == bob.user_id))
            ]
        assert actions.count("stepup.reset") == 1
    finally:
        await db.dispose()
