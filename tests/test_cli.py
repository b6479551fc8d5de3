"""The command line as people meet it: every subcommand's help has a description and an example;
long steps show progress on stderr, `--quiet` (cron) shows none and still prints the result."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import new_db

from registry import cli
from registry.core import settings


@pytest.mark.parametrize("command", sorted(cli.COMMANDS))
def test_every_subcommand_help_has_a_description_and_an_example(command: str, capsys) -> None:
    with pytest.raises(SystemExit) as done:
        cli.main([command, "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    description, example = cli.COMMANDS[command]
    assert description.split(" ")[0] in out and "example:" in out and example in out
    assert example.startswith("registry ")


def test_ingest_shows_progress_and_quiet_shows_none(tmp_path: Path, capsys) -> None:
    db = new_db(tmp_path / "r.duckdb")
    assert cli.main(["--db", str(db), "ingest", "firms", str(settings.sample("firms", "firms.csv"))]) == 0
    captured = capsys.readouterr()
    assert "firms <- firms.csv: read 50, landed 50" in captured.out
    assert "checking rows: 50/50" in captured.err and "landing: 50/50" in captured.err
    assert cli.main(["--db", str(db), "--quiet", "ingest", "events", str(settings.sample("events", "events.csv"))]) == 0
    quiet = capsys.readouterr()
    assert "events <- events.csv: read 76, landed 76" in quiet.out and quiet.err == ""


def test_dbt_lines_drive_the_progress_and_failures_are_always_shown(capsys) -> None:
    display = cli.Display()
    for line in ("00:01:02  Running with dbt=1.11.16",
                 "00:01:03  1 of 4 START sql view model staging.stg_a ........ [RUN]",
                 "00:01:03  1 of 4 OK created sql view model staging.stg_a ........ [OK in 0.05s]",
                 "00:01:04  2 of 4 FAIL 3 unique_fct_entitlements_entitlement_id ........ [FAIL 3 in 0.02s]",
                 "00:01:05  4 of 4 PASS not_null_x ........ [PASS in 0.01s]",
                 "00:01:05  Completed with 1 error, 0 partial successes, and 0 warnings:"):
        display.dbt_line(line)
    err = capsys.readouterr().err
    assert "Running with dbt" in err and "FAIL 3 unique_fct_entitlements_entitlement_id" in err
    assert "dbt build: 4/4 nodes" in err and "Completed with 1 error" in err and "START" not in err


def test_the_readme_lists_every_setting_and_the_user_paths() -> None:
    readme = (settings.REPO_ROOT / "README.md").read_text(encoding="utf-8")
    # the table is settings.VARIABLES rendered, row for row: one source for what each setting does
    table = "\n".join(f"| `{name}` | {what} |" for name, what in settings.VARIABLES.items())
    assert f"| variable | what |\n|---|---|\n{table}\n\n" in readme, (
        "README's settings table differs from registry/core/settings.py VARIABLES: render it from there")
    for command in ("make demo", "make test", "make airflow", "make docs"):
        assert command in readme
    assert "## Troubleshooting" in readme and "bench/README.md" in readme
