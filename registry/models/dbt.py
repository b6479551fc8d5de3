"""Run dbt against the registry database in a child process, its output streamed line by line.

A child process, not dbt's in-process runner: dbt-duckdb keeps its connection open, and a
long-lived process (a CLI, an Airflow worker, `dag.test()`) would keep holding DuckDB's
single-writer lock. When the child exits, the lock is released.

dbt's own output (one line per model and test as it finishes, with its time) goes to the caller's
`on_line` as it comes: the command line shows it as progress, an Airflow task logs it, so the task
log has every node with its time. On failure the error names the failing nodes (dbt's summary
after "Completed with ... errors").
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from collections import deque
from collections.abc import Callable
from pathlib import Path

from registry.core import settings
from registry.core.errors import DatabaseBusy, RegistryError

LineSink = Callable[[str], None]
_TAIL_LINES = 400  # of dbt's output kept for the error message
# dbt's per-node lines: "12 of 80 OK created sql table model marts.fct_entitlements ...... [OK in 0.31s]"
NODE_LINE = re.compile(r"\b(\d+) of (\d+) (OK|PASS|WARN|ERROR|FAIL|SKIP|START)\b")


class DbtError(RegistryError):
    """dbt failed; the message carries the failing nodes and dbt's own last lines."""

    hint = "the message names the failing model or test; the full log is in dbt_logs/ beside the database"


class DbtBusy(DbtError, DatabaseBusy):
    """dbt could not open the database: another process holds it (worth retrying later)."""

    hint = DatabaseBusy.hint
    retryable = True


def _dbt_executable() -> str:
    beside = Path(sys.executable).with_name("dbt")
    return str(beside) if beside.exists() else "dbt"


def node_progress(line: str) -> tuple[int, int, str] | None:
    """(done, total, status) of a dbt node line ("12 of 80 OK created ..."), else None."""
    found = NODE_LINE.search(line)
    return (int(found.group(1)), int(found.group(2)), found.group(3)) if found else None


def run_dbt(args: list[str], db: Path, as_of: dt.date | None = None, changed_since: dict | None = None,
            on_line: LineSink | None = None) -> str:
    """Run `dbt ARGS` for the database `db` (vars: the list date, and for an incremental build
    what changed since the last one), passing each output line to `on_line` as it comes;
    returns dbt's output, raises DbtError on failure."""
    env = settings.child_env(**{settings.DB_ENV_VAR: str(db)})
    command = [_dbt_executable(), *args, "--project-dir", str(settings.DBT_PROJECT_DIR),
               "--profiles-dir", str(settings.DBT_PROJECT_DIR),
               "--target-path", str(db.parent / "dbt_target"), "--log-path", str(db.parent / "dbt_logs")]
    variables = {"as_of_date": as_of.isoformat()} if as_of is not None else {}
    if changed_since is not None:
        variables["changed_since"] = changed_since
    if variables:
        command += ["--vars", json.dumps(variables)]
    lines: list[str] = []
    tail: deque[str] = deque(maxlen=_TAIL_LINES)
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          bufsize=1, encoding="utf-8", errors="replace") as child:
        assert child.stdout is not None
        for raw in child.stdout:
            line = raw.rstrip("\n")
            lines.append(line)
            tail.append(line)
            if on_line is not None:
                on_line(line)
        returncode = child.wait()
    output = "\n".join(lines)
    if returncode != 0:
        text = "\n".join(tail).strip()
        summary = text.split("Completed with", 1)[-1] if "Completed with" in text else text[-4000:]
        error = DbtBusy if re.search(r"could not set lock|conflicting lock", text, re.IGNORECASE) else DbtError
        raise error(f"dbt {' '.join(args)} failed (exit {returncode}) for {db}:\n{summary.strip()}\n"
                    f"(full log: {db.parent / 'dbt_logs' / 'dbt.log'})")
    return output


def build(db: Path, as_of: dt.date, changed_since: dict | None = None, full_refresh: bool = False,
          data_tests: bool = True, on_line: LineSink | None = None) -> str:
    """`dbt build` for the list date `as_of`: every model and every data test (the invariants
    the list relies on). Unit tests check the SQL, not the night's data: they run in the test
    suite (`unit_tests`), not every night. `changed_since` makes the incremental models
    recompute only the firms changed since then; `full_refresh` rebuilds them whole. Without
    `data_tests` it is `dbt run` (the benchmark's smoke run)."""
    args = ["build", "--exclude-resource-type", "unit_test"] if data_tests else ["run"]
    args += ["--full-refresh"] if full_refresh else []
    return run_dbt(args, db, as_of, changed_since, on_line)


def docs(db: Path, as_of: dt.date, on_line: LineSink | None = None) -> Path:
    """`dbt docs generate` for the database `db` (the catalog reads its relations); returns the
    folder holding index.html, manifest.json and catalog.json (serve it over http: the page fetches
    the JSON files)."""
    run_dbt(["docs", "generate"], db, as_of, on_line=on_line)
    return db.parent / "dbt_target"


def unit_tests(db: Path) -> str:
    """The dbt unit tests (fixtures only; they still need the sources to exist in `db`)."""
    return run_dbt(["test", "--select", "test_type:unit"], db, dt.date(2026, 11, 1))
