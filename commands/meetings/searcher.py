"""The seam to `!search` (commands.voice): meetings whose title holds the words, for those who may see them."""

from __future__ import annotations

from commands.meetings import access
from commands.record_search import RecordSearch

#: The rule of access.can_see decides; being in the room the card was posted in admits nobody.
#: A hit is dated by the meeting's start, the time people know it by.
search_meetings = RecordSearch("meeting", access.search, at=lambda m: m.starts_at, author=lambda m: m.organizer)
