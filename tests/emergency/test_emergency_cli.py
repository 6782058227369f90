"""`zhiban roster import`: good files import, bad lines are listed by number and nothing is imported."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from zhiban.cli import app


def test_roster_import_reports_bad_lines_and_imports_good_files(tmp_path: Path) -> None:
    config = tmp_path / "zhiban.toml"
    config.write_text(f'data_dir = "{tmp_path}"\n', encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text("date,start,end,leader,officers\n2026-11-26,08:30,08:30,@zhang,@li\n2026-02-30,08:30,08:30,@a,@b\n")
    runner = CliRunner()
    result = runner.invoke(app, ["roster", "import", str(bad), "-c", str(config)])
    assert result.exit_code == 1
    assert "line 3" in result.output and "YYYY-MM-DD" in result.output
    good = tmp_path / "good.csv"
    good.write_text("date,start,end,leader,officers\n2026-11-26,08:30,08:30,@zhang,@li;@wang\n")
    result = runner.invoke(app, ["roster", "import", str(good), "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert "Imported 1 shift" in result.output
