"""How the bot client is set up: its account, its join policy, where its sync token is kept."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


class TokenStore(Protocol):
    async def load(self) -> str | None: ...

    async def save(self, token: str) -> None: ...


class MemoryTokenStore:
    def __init__(self) -> None:
        self.token: str | None = None

    async def load(self) -> str | None:
        return self.token

    async def save(self, token: str) -> None:
        self.token = token


@dataclass
class JoinPolicy:
    """Whose invitations the bot accepts: listed servers (":office.example") or users."""

    allowed_servers: list[str] = field(default_factory=list)
    allowed_users: list[str] = field(default_factory=list)

    def allows(self, user_id: str) -> bool:
        if user_id in self.allowed_users:
            return True
        server = user_id.split(":", 1)[1] if ":" in user_id else ""
        return "*" in self.allowed_servers or server in self.allowed_servers


@dataclass
class ClientOptions:
    homeserver: str
    user_id: str
    password: str | None = None
    access_token: str | None = None
    device_id: str | None = None
    device_name: str = "Zhiban bot"
    store_dir: Path | None = None
    e2ee: bool = True
    encrypt_new_rooms: bool = True
    join_policy: JoinPolicy = field(default_factory=JoinPolicy)
    # Commands older than this when they arrive (the bot was down) are not acted on.
    max_event_age_s: float = 6 * 3600
    # Where read receipts are handed to the `receipt` observer: "direct" (DM rooms), "all", "none".
    # Every member's every read in a shared room is a receipt; a bot mostly cares who read what
    # it sent someone in person, and each event handled costs a transaction in most applications.
    receipt_rooms: str = "direct"
    sync_timeout_ms: int = 30_000
