"""The bot is SIGKILLed twice during one approval decision (!同意 on a two-step chain).

First inside the decision's transaction (the step is marked, nothing committed), then, after a
restart, while the relay sends what the decision wrote: the first message is accepted by the
homeserver but not noted as sent, every later one is held back, and a DM room the decision
needs has been made at the homeserver but not yet recorded in the bot's `m.direct` (it used
to be made a second time after the restart, the person invited to two rooms). After the third
start the homeserver's history (`/messages`, read through a fresh login of the bot's account)
shows the decision once: the next approver asked once, the drafter told once, one reply in the
room, the card edited; and the database holds one decision.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from commands.approvals.models import ApprovalHistory
from records.db import Database
from tests.e2e.conftest import MakeBot
from tests.support.fixtures import MakeUser
from tests.support.processes import History, body, count, kill, spawn_bot, stop, until, wait_for_marker
from zhiban.local.homeserver import LocalHomeserver

pytestmark = pytest.mark.e2e

TITLE = "关于防汛物资采购的请示"

# First process: the decision is taken, then the turn hangs before its commit.
HANG_IN_DECISION = """
import commands.approvals.service as _service
_decide = _service.decide

async def decide(session, *args, **kwargs):
    outcome = await _decide(session, *args, **kwargs)
    await session.flush()
    await hang("decided, not committed")
    return outcome

_service.decide = decide
"""

# Second process: the first message about the decision that the relay sends (the reply or the
# card's edit) reaches the homeserver and is never noted as sent, and nothing after it reaches
# the homeserver; the DM rooms the decision needs (the drafter's, the next approver's) are made
# at the homeserver and never written into m.direct. CODE is prepended.
HANG_IN_RELAY = """
import asyncio, nio
_send, _create = nio.AsyncClient.room_send, nio.AsyncClient.room_create
_held = []

async def room_send(self, room_id, message_type, content, *args, **kwargs):
    if _held:
        await asyncio.Event().wait()
    response = await _send(self, room_id, message_type, content, *args, **kwargs)
    if CODE in str(content.get("body", "")) and getattr(response, "event_id", None):
        _held.append(room_id)
        await asyncio.Event().wait()
    return response

async def room_create(self, *args, **kwargs):
    response = await _create(self, *args, **kwargs)
    if kwargs.get("is_direct") and getattr(response, "room_id", None):
        await hang(response.room_id)
    return response

nio.AsyncClient.room_send, nio.AsyncClient.room_create = room_send, room_create
"""


async def _in_dms(history: History, rooms: list[str], sender: str, contains: str | tuple[str, ...]) -> int:
    total = 0
    for room in rooms:
        total += count(await history.messages(room), sender=sender, contains=contains)
    return total


def _edits_of(messages: list[dict[str, Any]], card_id: str) -> list[str]:
    """The new texts of the edits (`m.replace`) of one message."""
    texts = []
    for event in messages:
        content = event.get("content", {})
        relation = content.get("m.relates_to") or {}
        if relation.get("rel_type") == "m.replace" and relation.get("event_id") == card_id:
            texts.append(body({"content": content.get("m.new_content", {})}))
    return texts


async def _decisions(database_url: str, actor: str) -> int:
    db = Database(database_url)
    try:
        async with db.reading() as session:
            query = select(func.count()).select_from(ApprovalHistory).where(ApprovalHistory.actor == actor)
            return int(await session.scalar(query.where(ApprovalHistory.action == "approve")) or 0)
    finally:
        await db.dispose()


async def test_a_bot_killed_during_an_approval_decision_records_and_tells_it_once(
    homeserver: LocalHomeserver, make_bot: MakeBot, make_user: MakeUser, tmp_path: Path
) -> None:
    alice = await make_user("alice")  # drafts
    bob = await make_user("bob")  # the first step
    bob_name = bob.user_id[1:].split(":", 1)[0]  # how texts show him: the homeserver's default name
    carol = await homeserver.register(f"carol-{secrets.token_hex(3)}", secrets.token_hex(8))  # the second
    bot = await make_bot(start=False, e2ee=False)
    log_path = tmp_path / "bot.log"
    in_decision, in_relay = tmp_path / "in-decision", tmp_path / "in-relay"
    process = spawn_bot(bot.config_path, hook=HANG_IN_DECISION, marker=in_decision, log_path=log_path)
    try:
        room = await alice.create_room(invite=[bot.user_id, bob.user_id])
        await alice.wait_for_member(room, bot.user_id, timeout=60)
        await alice.wait_for_member(room, bob.user_id)
        mark = alice.mark()
        await alice.send_text(room, f"!审批 发起 {TITLE} {bob.user_id} > {carol}")
        card = await alice.wait_for_message(room, sender=bot.user_id, contains="📝 审批 A", since=mark, timeout=60)
        code = (card.body or "").split("审批 ", 1)[1].split("：", 1)[0]
        await bob.wait_for(lambda e: e.sender == bot.user_id and f"请审批 {code}" in (e.body or ""), timeout=60)

        await bob.send_text(room, f"!同意 {code} 拟同意采购")
        await wait_for_marker(in_decision, process, log_path=log_path)
        kill(process)
        process = spawn_bot(
            bot.config_path, hook=f"CODE = {code!r}\n{HANG_IN_RELAY}", marker=in_relay, log_path=log_path
        )
        await wait_for_marker(in_relay, process, log_path=log_path)
        kill(process)
        killed_at = time.monotonic()
        process = spawn_bot(bot.config_path, log_path=log_path)

        async with History.login(homeserver.base_url, bot.user_id, bot.settings.matrix.password) as history:
            seen: dict[str, Any] = {}

            async def tally() -> dict[str, Any]:
                dms = await history.one_to_one_rooms()
                in_room = await history.messages(room)
                seen.update(
                    {
                        "carol's DM rooms": len(dms.get(carol, [])),
                        "alice's DM rooms": len(dms.get(alice.user_id, [])),
                        "carol asked": await _in_dms(history, dms.get(carol, []), bot.user_id, f"请审批 {code}"),
                        "alice told": await _in_dms(
                            history, dms.get(alice.user_id, []), bot.user_id, (bob_name, "同意了", code)
                        ),
                        "replies": count(in_room, sender=bot.user_id, contains=(code, "已转下一步")),
                        "card edited": any(bob_name in text for text in _edits_of(in_room, card.event_id)),
                    }
                )
                return seen

            async def all_arrived() -> bool:
                return all((await tally()).values())

            await until(all_arrived, lambda: f"the decision's messages never all arrived: {seen}", within=120)
            print(f"the decision's messages were all in {time.monotonic() - killed_at:.1f}s after the second kill")
            await asyncio.sleep(3)  # a second copy, if any, would be in the history by now
            final = dict(await tally())
        assert final == {
            "carol's DM rooms": 1,
            "alice's DM rooms": 1,
            "carol asked": 1,
            "alice told": 1,
            "replies": 1,
            "card edited": True,
        }, final
        assert await _decisions(bot.settings.database_url, bob.user_id) == 1
    finally:
        stop(process)
