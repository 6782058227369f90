"""Config problems name their source (the file and key, or the variable), suggest the key that
was meant, and a ZHIBAN_* variable that is no setting is refused instead of ignored."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from records.config import ConfigError, load_settings
from zhiban.cli import app


def _problems(tmp_path: Path, toml: str = "") -> str:
    path = tmp_path / "zhiban.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    return str(caught.value)


def test_a_misspelt_key_names_the_file_and_the_key_meant(tmp_path: Path) -> None:
    message = _problems(tmp_path, "[matrix]\nmax_mesage_chars = 100\n")
    assert f"{tmp_path / 'zhiban.toml'}: matrix.max_mesage_chars" in message
    assert "did you mean `max_message_chars`?" in message
    assert "Extra inputs are not permitted" not in message


def test_a_misspelt_key_in_a_list_of_tables_gets_its_suggestion(tmp_path: Path) -> None:
    message = _problems(tmp_path, '[[emergency.responders]]\nclases = ["E5"]\n')
    assert "emergency.responders.0.clases" in message and "did you mean `classes`?" in message


def test_a_bad_environment_value_blames_the_variable_not_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZHIBAN_MATRIX__MAX_MESSAGE_CHARS", "-5")
    message = _problems(tmp_path, "[matrix]\nprefix = '!'\n")
    assert "ZHIBAN_MATRIX__MAX_MESSAGE_CHARS (environment): must be at least 1" in message
    assert str(tmp_path) not in message


@pytest.mark.parametrize(
    ("variable", "meant"),
    [
        ("ZHIBAN_MATRIX_PASSWORD", "ZHIBAN_MATRIX__PASSWORD"),  # one underscore: silently ignored before
        ("ZHIBAN_MATRIX__PASWORD", "ZHIBAN_MATRIX__PASSWORD"),
        ("ZHIBAN_DATABSE__URL", "ZHIBAN_DATABASE__URL"),
    ],
)
def test_an_unknown_zhiban_variable_is_refused_with_the_name_meant(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str, meant: str
) -> None:
    monkeypatch.setenv(variable, "x")
    message = _problems(tmp_path)
    assert f"{variable} (environment): not a Zhiban setting; did you mean `{meant}`?" in message
    assert message.count(variable) == 1  # once, not again as pydantic's own error


def test_variables_read_by_zhiban_itself_are_not_settings_and_are_allowed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ["ZHIBAN_CONFIG", "ZHIBAN_TEST_REDIS", "ZHIBAN_TEST_POSTGRES", "ZHIBAN_REQUIRE_POSTGRES"]:
        monkeypatch.setenv(name, "1")
    for name in ["ZHIBAN_FUZZ_EXAMPLES", "ZHIBAN_WHISPER_CACHE", "ZHIBAN_BENCH_REDIS"]:
        monkeypatch.setenv(name, "1")
    monkeypatch.setenv("ZHIBAN_ROLES__LEADER", '["@zhang:office.example"]')  # a key inside a table
    monkeypatch.setenv("ZHIBAN_MEETINGS__PLACES__301", "12")
    path = tmp_path / "zhiban.toml"
    path.write_text("", encoding="utf-8")
    settings = load_settings(path)
    assert settings.roles["leader"] == ["@zhang:office.example"]


def test_the_cli_prints_the_source_without_a_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZHIBAN_SERVER__PORTT", "8080")
    path = tmp_path / "zhiban.toml"
    path.write_text("[server]\nport = 99999\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["doctor", "--config", str(path)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "ZHIBAN_SERVER__PORTT (environment): not a Zhiban setting; did you mean `ZHIBAN_SERVER__PORT`?" in (
        result.output
    )
    assert f"{path}: server.port: must be at most 65535" in result.output
