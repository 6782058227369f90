"""The seam to `!search` (commands.voice): tasks whose title holds the words, for those who may see them."""

from __future__ import annotations

from commands.record_search import RecordSearch
from commands.tasks import access

#: The rule of access.can_see decides; being in the room the card was posted in admits nobody.
search_tasks = RecordSearch("task", access.search, at=lambda t: t.created_at, author=lambda t: t.assigner)
