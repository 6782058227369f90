"""Pytest fixtures for tests against a real Synapse.

Import them into a conftest or a test module with
`from tests.support.fixtures import *` (or by name).
"""

from __future__ import annotations

import importlib.util
import itertools
import uuid
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import Protocol

import pytest
import pytest_asyncio

from tests.support.chat_user import ChatUser
from tests.support.synapse import start_test_homeserver
from zhiban.local.homeserver import LocalHomeserver

__all__ = ["MakeUser", "homeserver", "make_user"]


class MakeUser(Protocol):
    def __call__(
        self,
        name: str = "user",
        *,
        e2e: bool = False,
        start: bool = True,
        auto_join: bool = True,
        store_dir: Path | None = None,
    ) -> Awaitable[ChatUser]: ...


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def homeserver(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LocalHomeserver]:
    """One Synapse for the whole test session (SQLite, random loopback port)."""
    if importlib.util.find_spec("synapse") is None:
        pytest.skip("matrix-synapse is not installed (pip install 'zhiban[local]')")
    hs = await start_test_homeserver(tmp_path_factory.mktemp("homeserver"))
    try:
        yield hs
    finally:
        await hs.stop()


_counter = itertools.count()


@pytest_asyncio.fixture(loop_scope="session")
async def make_user(homeserver: LocalHomeserver, tmp_path: Path) -> AsyncIterator[MakeUser]:
    """A factory of started `ChatUser`s with unique localparts, stopped after the test."""
    users: list[ChatUser] = []

    async def factory(
        name: str = "user",
        *,
        e2e: bool = False,
        start: bool = True,
        auto_join: bool = True,
        store_dir: Path | None = None,
    ) -> ChatUser:
        localpart = f"{name.lower()}-{next(_counter)}-{uuid.uuid4().hex[:6]}"
        if e2e and store_dir is None:
            store_dir = tmp_path / f"store-{localpart}"
        user = await ChatUser.create(homeserver, localpart, e2e=e2e, store_dir=store_dir, auto_join=auto_join)
        users.append(user)
        if start:
            await user.start()
        return user

    try:
        yield factory
    finally:
        for user in users:
            await user.stop()
