"""The sync token, kept in the database beside the ledger."""

from __future__ import annotations

from records import kv
from records.db import Database


class DatabaseTokenStore:
    def __init__(self, db: Database, user_id: str) -> None:
        self.db = db
        self.key = f"sync_token:{user_id}"

    async def load(self) -> str | None:
        async with self.db.reading() as session:
            return await kv.get(session, self.key)

    async def save(self, token: str) -> None:
        async with self.db.transaction() as session:
            await kv.put(session, self.key, token)
