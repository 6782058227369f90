"""The first direct message Zhiban sends anyone: three lines on what it does and how to get help.

A person's first DM from the bot is often an alert or an approval at a bad moment, from an
account they have never seen. So the relay, which delivers every DM (`zhiban.relay`: a row
addressed `to_user`, whichever feature or worker wrote it), sends this introduction into the
person's DM room just before the first message it delivers there, once per person, ever. Who
was introduced is kept in the database (`records.kv`), written after the introduction went
out; a crash in between sends it again with the same transaction id, which the homeserver
takes as the same message. The introduction is best effort: if it fails or is slow, the
message it precedes (perhaps an alert) goes out anyway, and it is tried again before the
person's next DM.

The emergency feature's start-up greeting (which opens the DM rooms of everyone an alert may
reach) is this introduction, and counts as it.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from notifications.texts import text
from records import kv

KEY = "dm.introduced:"
# The emergency feature's greeting at start (emergency.reachability) introduces too.
GREETED = "emergency.dm_opened:"


def introduction(lang: str) -> str:
    """The three lines, in `lang` (zh when it is not a language of ours)."""
    return text("welcome.dm", lang)


async def introduced(session: AsyncSession, user_id: str) -> bool:
    for prefix in (KEY, GREETED):
        if await kv.get(session, prefix + user_id) is not None:
            return True
    return False


async def mark_introduced(session: AsyncSession, user_id: str) -> None:
    await kv.put(session, KEY + user_id, "1")
