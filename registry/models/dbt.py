"""Run dbt against the registry database in a child process.

A child process, not dbt's in-process runner: dbt-duckdb keeps its connection open, and a
long-lived process (a CLI, an Airflow worker, `dag.test()`) would keep holding DuckDB's
single-writer lock. When the child exits, the lock is released.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

from registry.core import settings
from registry.core.errors import RegistryError


class DbtError(RegistryError):
    """dbt failed; the message carries the failing nodes and dbt's own last lines."""


def _dbt_executable() -> str:
    beside = Path(sys.executable).with_name("dbt")
    return str(beside) if beside.exists() else "dbt"


def run_dbt(args: list[str], db: Path, as_of: dt.date | None = None, changed_since: dict | None = None) -> str:
    """Run `dbt ARGS` for the database `db` (vars: the list date, and for an incremental build
    what changed since the last one); returns dbt's output, raises DbtError on failure."""
    env = settings.child_env(**{settings.DB_ENV_VAR: str(db)})
    command = [_dbt_executable(), *args, "--project-dir", str(settings.DBT_PROJECT_DIR),
               "--profiles-dir", str(settings.DBT_PROJECT_DIR),
               "--target-path", str(db.parent / "dbt_target"), "--log-path", str(db.parent / "dbt_logs")]
    variables = {"as_of_date": as_of.isoformat()} if as_of is not None else {}
    if changed_since is not None:
        variables["changed_since"] = changed_since
    if variables:
        command += ["--vars", json.dumps(variables)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        output = (done.stdout + done.stderr).strip()
        summary = output.split("Completed with", 1)[-1] if "Completed with" in output else output[-4000:]
        raise DbtError(f"dbt {' '.join(args)} failed (exit {done.returncode}) for {db}:\n{summary.strip()}\n"
                       f"(full log: {db.parent / 'dbt_logs' / 'dbt.log'})")
    return done.stdout


def build(db: Path, as_of: dt.date, changed_since: dict | None = None, full_refresh: bool = False,
          data_tests: bool = True) -> str:
    """`dbt build` for the list date `as_of`: every model and every data test (the invariants
    the list relies on). Unit tests check the SQL, not the night's data: they run in the test
    suite (`unit_tests`), not every night. `changed_since` makes the incremental models
    recompute only the firms changed since then; `full_refresh` rebuilds them whole. Without
    `data_tests` it is `dbt run` (the benchmark's smoke run)."""
    args = ["build", "--exclude-resource-type", "unit_test"] if data_tests else ["run"]
    args += ["--full-refresh"] if full_refresh else []
    return run_dbt(args, db, as_of, changed_since)


def unit_tests(db: Path) -> str:
    """The dbt unit tests (fixtures only; they still need the sources to exist in `db`)."""
    return run_dbt(["test", "--select", "test_type:unit"], db, dt.date(2026, 11, 1))
