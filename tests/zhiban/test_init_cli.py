"""`zhiban init`: refuses an existing file before any question, never writes an empty password,
and asks for the push server's public URL."""

from __future__ import annotations

import tomllib
from pathlib import Path

from typer.testing import CliRunner

from zhiban.cli import app


def _init(path: Path, *args: str, input: str = "") -> tuple[int, str]:
    result = CliRunner().invoke(app, ["init", "--config", str(path), *args], input=input)
    return result.exit_code, result.output


def test_an_existing_file_is_refused_before_the_password_is_asked(tmp_path: Path) -> None:
    path = tmp_path / "zhiban.toml"
    path.write_text("# mine\n")
    code, output = _init(path, input="secret-password\nhttps://zb.example\n")
    assert code == 1 and "exists" in output and "--force" in output
    assert "password" not in output.lower()  # nothing was asked
    assert path.read_text() == "# mine\n"


def test_an_empty_password_is_replaced_by_a_new_one_that_is_printed(tmp_path: Path) -> None:
    path = tmp_path / "zhiban.toml"
    code, output = _init(path, input="\nhttps://zb.office.example\n")
    assert code == 0, output
    written = tomllib.loads(path.read_text())
    password = written["matrix"]["password"]
    assert len(password) >= 16 and password in output
    assert written["server"]["public_url"] == "https://zb.office.example"


def test_a_typed_password_is_kept_and_not_printed(tmp_path: Path) -> None:
    path = tmp_path / "zhiban.toml"
    code, output = _init(path, input="typed-password\nhttps://zb.office.example\n")
    assert code == 0, output
    assert tomllib.loads(path.read_text())["matrix"]["password"] == "typed-password"
    assert "typed-password" not in output


def test_the_public_url_is_asked_again_until_it_is_a_web_address(tmp_path: Path) -> None:
    path = tmp_path / "zhiban.toml"
    code, output = _init(path, "--bot-password", "pw", input="zb.office.example\nhttps://zb.office.example/\n")
    assert code == 0, output
    assert "must start with https://" in output
    assert tomllib.loads(path.read_text())["server"]["public_url"] == "https://zb.office.example/"
    bad = tmp_path / "bad.toml"
    code, output = _init(bad, "--bot-password", "pw", "--public-url", "ftp://x")
    assert code == 2 and "public_url" in output and not bad.exists()
