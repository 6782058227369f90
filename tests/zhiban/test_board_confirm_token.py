"""The token of the confirmation page a board action opens (签发 from the board) must not be
computable by someone who knows the person and the action's key, even when the office has not
set `server.secret_key`."""

from __future__ import annotations

import base64
import hmac
from pathlib import Path

from records.clock import FrozenClock
from records.config import DatabaseSettings, ServerSettings, Settings
from records.db import Database
from tests.zhiban.test_board_wiring import T0
from zhiban.board_wiring import WiredBoard

PERSON, KEY = "@zhang:localhost", "tap-1"


def outsiders_guess(secret: str) -> str:
    mac = hmac.new(secret.encode(), f"board-confirm\0{PERSON}\0{KEY}".encode(), "sha256")
    return base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")


def board(tmp_path: Path, secret: str) -> WiredBoard:
    url = f"sqlite:///{tmp_path / 'zhiban.db'}"
    settings = Settings(data_dir=tmp_path, database=DatabaseSettings(url=url), server=ServerSettings(secret_key=secret))
    return WiredBoard(settings, Database(url), FrozenClock(T0))


def test_without_a_secret_the_confirmation_token_cannot_be_computed_from_outside(tmp_path: Path) -> None:
    first, second = board(tmp_path, ""), board(tmp_path, "")
    token = first._confirm_token(PERSON, KEY)
    assert token == first._confirm_token(PERSON, KEY)  # a double tap lands on the same page
    assert token != outsiders_guess("")
    assert token != second._confirm_token(PERSON, KEY)  # another process draws its own key


def test_a_configured_secret_keeps_the_token_across_server_copies(tmp_path: Path) -> None:
    secret = "s" * 40
    assert board(tmp_path, secret)._confirm_token(PERSON, KEY) == board(tmp_path, secret)._confirm_token(PERSON, KEY)
