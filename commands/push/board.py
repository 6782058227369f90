"""The notices section of the board (通知): what was sent to the viewer, newest first.

It reads the list the phone page shows (notifications.subscriptions.recent_notices_of): a notice
is addressed to one person, so it is theirs alone to see.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Catalog
from commands.board_section import Item, ManyAtOnce, Section, Viewer
from commands.push.texts import TEXTS
from notifications.subscriptions import RecentNotice, recent_notices_of
from timeparse import format_when

LIMIT = 10
_t = Catalog(TEXTS).t
#: Delivery states as people say them; one not listed reads as "sending".
STATUSES = ("delivered", "dm", "chat", "queued", "retrying", "skipped_quiet")


async def _notices_sections(session: AsyncSession, viewers: Sequence[Viewer], now: datetime) -> dict[str, Section]:
    lists = await recent_notices_of(session, {viewer.user_id: viewer.lang for viewer in viewers}, limit=LIMIT)
    return {viewer.user_id: _section(viewer, lists[viewer.user_id], now) for viewer in viewers}


def _section(viewer: Viewer, notices: Sequence[RecentNotice], now: datetime) -> Section:
    lang = viewer.lang
    items = []
    for notice in notices:
        status = _t(f"board.notices.status_{notice.status if notice.status in STATUSES else 'queued'}", lang)
        when = format_when(notice.created_at, tz=viewer.tz, lang=lang, now=now, hints=True)
        lines = tuple(line for line in (notice.body, _t("board.notices.meta", lang, when=when, status=status)) if line)
        items.append(Item(ref=None, title=notice.title, lines=lines))
    return Section(
        key="notices", title=_t("board.notices.title", lang), items=tuple(items), empty=_t("board.notices.empty", lang)
    )


#: The section; an office-wide notice changes every open board's, which are read all at once.
notices_section = ManyAtOnce(_notices_sections)
