"""The homeserver is down for 90 s while reminders, nags and alerts come due; the real `zhiban bot`
and `zhiban worker` processes run through it.

The relay used to give a message up after six tries (about 50 s) and mark it failed, with a
last log line still saying "will retry": a reminder due early in a 65 s outage never arrived.
Now everything that came due arrives once the homeserver is back, each exactly once and each
room's messages in the order they came due, as the homeserver's own room history shows
(`/messages`, read through a fresh login of the bot's account).

What comes due: a room reminder and an alarm (the duty room), the alarm ringing again, the 首报
reminder and the 迟报 alert (the incident room, and the duty leader's DM), an order's nag (the
responder's DM). The test moves their timers to "now" during the outage rather than waiting out
the real minutes; the worker's own pump then runs them.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.e2e.conftest import MakeBot
from tests.support.due import come_due, incident_room, nothing_due
from tests.support.fixtures import MakeUser
from tests.support.processes import History, body, count, spawn_bot, spawn_worker, stop, until
from tests.support.synapse import start_test_homeserver
from zhiban.local.homeserver import LocalHomeserver

pytestmark = pytest.mark.e2e

# The outage: longer than the old relay's ~50 s before it gave a message up.
DOWN_SECONDS = 90
# Timers come due this far into the outage: early ones, then later ones (order is checked).
EARLY, LATE = 5, 30


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def homeserver(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LocalHomeserver]:
    """A homeserver of this module's own, since the test stops it (the shared one stays up)."""
    hs = await start_test_homeserver(tmp_path_factory.mktemp("outage-homeserver"))
    try:
        yield hs
    finally:
        await hs.stop()


def _is(*needles: str, without: str = "") -> Callable[[str], bool]:
    return lambda text: all(n in text for n in needles) and not (without and without in text)


# Where each message is expected, and how it is told apart.
EXPECTED: dict[str, tuple[str, Callable[[str], bool]]] = {
    "the reminder": ("duty", _is("⏰ 提醒", "报送物资清单")),
    "the alarm": ("duty", _is("🚨 闹钟", "值班交接", without="再次提醒")),
    "the alarm again": ("duty", _is("🚨 闹钟", "值班交接", "再次提醒")),
    "the 首报 reminder": ("incident", _is("⏰ E1 首报")),
    # The deadline's timer is brought forward to now: the report is due, not yet late.
    "the 迟报 in the room": ("incident", _is("E1 首报已到时限", "已上报带班领导")),
    "the 迟报 alert to the leader": ("leader", _is("🔴 E1", "的首报已到时限")),
    "the order's nag": ("fire", _is("尚未确认", "到城东泵站集合")),
}


async def test_what_comes_due_while_the_homeserver_is_down_arrives_exactly_once(
    homeserver: LocalHomeserver, make_bot: MakeBot, make_user: MakeUser, tmp_path: Path
) -> None:
    officer = await make_user("officer")
    leader = await homeserver.register(f"leader-{secrets.token_hex(3)}", secrets.token_hex(8))
    fire = await homeserver.register(f"fire-{secrets.token_hex(3)}", secrets.token_hex(8))
    bot = await make_bot(
        stepup={"incident_declare": False},  # grade Ⅱ without the phone's confirmation here
        start=False,
        e2ee=False,
        roles={"duty_leader": [leader], "duty_officer": [officer.user_id]},
        emergency={"responders": [{"classes": ["自然灾害"], "users": [fire]}]},
    )
    bot_process = spawn_bot(bot.config_path, log_path=tmp_path / "bot.log")
    worker = spawn_worker(bot.config_path, cwd=tmp_path, log_path=tmp_path / "worker.log")
    try:
        duty_room = await officer.create_room(invite=[bot.user_id])
        await officer.wait_for_member(duty_room, bot.user_id, timeout=60)
        for command, answer in (
            ("!提醒 本群 10分钟后 报送物资清单", "时间："),
            ("!alarm in 10 minutes 值班交接", "时间："),
            ("!应急 启动 Ⅱ 自然灾害 城东内涝", "已启动"),
        ):
            mark = officer.mark()
            await officer.send_text(duty_room, command)
            await officer.wait_for_message(duty_room, sender=bot.user_id, contains=answer, since=mark, timeout=60)
        em_room = await incident_room(bot.settings.database_url)
        await officer.wait_for_room(em_room)
        mark = officer.mark()
        await officer.send_text(em_room, f"!指令 {fire} 到城东泵站集合")
        await officer.wait_for_message(em_room, sender=bot.user_id, contains="确认 0/1", since=mark, timeout=60)
        await officer.stop()  # her client would give up while the server is away

        await homeserver.stop()
        down_at = time.monotonic()
        await asyncio.sleep(EARLY)
        early = ("reminder.fire", "emergency.report_remind", "emergency.order_nag")
        assert await come_due(bot.settings.database_url, early) == 4  # two reminders.fire: reminder, alarm
        await asyncio.sleep(LATE - EARLY)
        late = ("reminder.nag", "emergency.report_due")
        assert await come_due(bot.settings.database_url, late) == 2
        # The worker ran them while the homeserver was away: their messages wait in the outbox.
        await until(lambda: nothing_due(bot.settings.database_url), "the worker did not run the due timers")
        await asyncio.sleep(DOWN_SECONDS - (time.monotonic() - down_at))
        await homeserver.start()
        back_at = time.monotonic()

        assert bot_process.poll() is None and worker.poll() is None, "a process died during the outage"
        async with History.login(homeserver.base_url, bot.user_id, bot.settings.matrix.password) as history:
            dms = await history.one_to_one_rooms()
            rooms = {"duty": [duty_room], "incident": [em_room], "leader": dms[leader], "fire": dms[fire]}

            async def read() -> dict[str, list[dict[str, Any]]]:
                return {where: [m for r in ids for m in await history.messages(r)] for where, ids in rooms.items()}

            def tally(messages: dict[str, list[dict[str, Any]]]) -> dict[str, int]:
                return {
                    what: count(messages[where], sender=bot.user_id, where=test)
                    for what, (where, test) in EXPECTED.items()
                }

            seen: dict[str, int] = {}

            async def all_there() -> bool:
                seen.update(tally(await read()))
                return all(seen.values())

            await until(all_there, lambda: f"not everything arrived: {seen}", within=120)
            print(f"all delivered {time.monotonic() - back_at:.1f}s after the homeserver was back")
            await asyncio.sleep(3)  # a second delivery, if any, would be in the history by now
            messages = await read()
        assert tally(messages) == dict.fromkeys(EXPECTED, 1)
        # Each room's messages in the order they came due: the early ones before the late ones.
        duty = [body(m) for m in messages["duty"] if m.get("sender") == bot.user_id]
        assert _first(duty, "the alarm again") > max(_first(duty, "the reminder"), _first(duty, "the alarm")), duty
        incident = [body(m) for m in messages["incident"] if m.get("sender") == bot.user_id]
        assert _first(incident, "the 首报 reminder") < _first(incident, "the 迟报 in the room"), incident
    finally:
        stop(bot_process)
        stop(worker)


def _first(texts: list[str], what: str) -> int:
    """Where the expected message first shows in a room's texts (oldest first)."""
    return next(i for i, text in enumerate(texts) if EXPECTED[what][1](text))
