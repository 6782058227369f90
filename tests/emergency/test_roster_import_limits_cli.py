"""`zhiban roster import` on rows that used to crash it: each is named by line and column,
in English and Chinese, the exit code is 1, nothing is imported, and there is no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from zhiban.cli import app

HEADER = "date,start,end,leader,officers\n"


def _config(tmp_path: Path, roster_tz: str = "Asia/Shanghai") -> Path:
    config = tmp_path / "zhiban.toml"
    config.write_text(f'data_dir = "{tmp_path}"\n[emergency]\nroster_tz = "{roster_tz}"\n', encoding="utf-8")
    return config


def _import(tmp_path: Path, rows: str, roster_tz: str = "Asia/Shanghai") -> tuple[int, str, BaseException | None]:
    roster = tmp_path / "roster.csv"
    roster.write_text(HEADER + rows, encoding="utf-8")
    result = CliRunner().invoke(app, ["roster", "import", str(roster), "-c", str(_config(tmp_path, roster_tz))])
    return result.exit_code, result.output, result.exception


@pytest.mark.parametrize(
    ("row", "column", "en", "zh"),
    [
        # The day after 9999-12-31 does not exist: OverflowError.
        ("9999-12-31,08:30,08:30,@zhang,@li", "date", "out of range", "超出范围"),
        # A UTC offset cannot be compared with a wall time: TypeError.
        ("2026-11-26,08:30:00+05:00,20:00,@zhang,@li", "start", "must be HH:MM", "应为 HH:MM"),
        ("2026-11-26,08:30,20:00:00+05:00,@zhang,@li", "end", "must be HH:MM", "应为 HH:MM"),
    ],
)
def test_rows_that_crashed_the_import_are_named(tmp_path: Path, row: str, column: str, en: str, zh: str) -> None:
    code, output, exception = _import(tmp_path, row + "\n")
    assert code == 1, output
    assert isinstance(exception, SystemExit), exception  # an orderly exit, not a traceback
    assert "Traceback" not in output
    assert f"line 2, column {column}" in output and en in output and zh in output, output
    assert "Imported" not in output


def test_an_end_before_its_start_is_named(tmp_path: Path) -> None:
    # 02:30 does not exist on the day New York's clocks go forward: the shift would end
    # (03:00 EDT, 07:00 UTC) half an hour before it began (02:30 EST, 07:30 UTC).
    code, output, exception = _import(tmp_path, "2026-03-08,02:30,03:00,@zhang,@li\n", "America/New_York")
    assert code == 1, output
    assert isinstance(exception, SystemExit), exception
    assert "line 2, column end" in output and "The end must be after the start" in output, output


def test_a_roster_without_shifts_is_an_answer_not_a_traceback(tmp_path: Path) -> None:
    code, output, exception = _import(tmp_path, "")
    assert code == 1, output
    assert isinstance(exception, SystemExit), exception
    assert "The roster has no shifts" in output and "值班表没有任何班次" in output, output
