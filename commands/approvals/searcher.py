"""The seam to `!search` (commands.voice): approvals whose title holds the words, for those who may see them."""

from __future__ import annotations

from commands.approvals import access
from commands.record_search import RecordSearch

#: The rule of access.can_see decides; being in the room the card was posted in admits nobody.
search_approvals = RecordSearch("approval", access.search, at=lambda a: a.created_at, author=lambda a: a.requester)
