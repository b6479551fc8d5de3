"""Run dbt against the registry database, in this process, its output streamed line by line.

dbt runs through its programmatic runner (`dbtRunner`), not as a child process: importing dbt
(3-4 s) and parsing the project (10 s and more for a full parse) are paid once per process, not
once per step. What a child process gave for free is done explicitly:

* the DuckDB file is released when dbt returns. dbt-duckdb keeps its connection in a class-level
  environment; `_release` closes it, so after `run_dbt` returns another process can open the file
  read-write (tests/test_dbt_runner.py) and a long-lived process (an Airflow worker, `dag.test()`,
  the test suite) never holds DuckDB's single-writer lock between steps;
* the project is parsed once per process and dbt is handed the parsed manifest for every later
  invocation on a database of the same name (`_manifest`); the first parse in a process is dbt's
  own, partial when the target folder beside the database holds a valid one. The per-night inputs
  are not command-line vars (which make dbt reparse everything): the registry writes the night's plan
  to ledger.model_build_plan and passes the constant var `registry_plan` (dbt_project/macros/build_plan.sql);
* dbt prints nothing on our stdout (a `--json` answer stays clean): its events come to a callback,
  and the lines dbt would print (one per model and test as it finishes, with its time) go to the
  caller's `on_line` as they come: the command line shows them as progress, an Airflow task logs
  them. dbt's own log is still written to dbt_logs/ beside the database.

On failure the error names the failing nodes (dbt's summary after "Completed with ... errors").
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from registry.core import settings
from registry.core.errors import DatabaseBusy, RegistryError

LineSink = Callable[[str], None]
_TAIL_LINES = 400  # of dbt's output kept for the error message
LOG_LEVEL_FILE = "info"  # the SQL of every node is in dbt_target/run/; debug lines cost ~10% of a build
# dbt's per-node lines: "12 of 80 OK created sql table model marts.fct_entitlements ...... [OK in 0.31s]"
NODE_LINE = re.compile(r"\b(\d+) of (\d+) (OK|PASS|WARN|ERROR|FAIL|SKIP|START)\b")
# ... and the project's hooks ("1 of 1 START hook: registry.on-run-start.0"), which are not nodes
HOOK_LINE = re.compile(r"\b\d+ of \d+ (OK|ERROR|START) hook: ")
# The levels dbt prints on a terminal (debug goes to its log file only).
_SHOWN_LEVELS = frozenset({"info", "warn", "error"})
# One dbt invocation at a time in a process: dbt keeps global state (flags, adapters, the DuckDB environment).
_RUNNING = threading.Lock()
_MANIFESTS: dict[tuple[str, str], Any] = {}  # (project digest, database name) -> dbt's parsed manifest


class DbtError(RegistryError):
    """dbt failed; the message carries the failing nodes and dbt's own last lines."""

    hint = "the message names the failing model or test; the full log is in dbt_logs/ beside the database"


class DbtBusy(DbtError, DatabaseBusy):
    """dbt could not open the database: another process holds it (worth retrying later)."""

    hint = DatabaseBusy.hint
    retryable = True


def node_progress(line: str) -> tuple[int, int, str] | None:
    """(done, total, status) of a dbt node line ("12 of 80 OK created ..."), else None."""
    if HOOK_LINE.search(line):
        return None
    found = NODE_LINE.search(line)
    return (int(found.group(1)), int(found.group(2)), found.group(3)) if found else None


def _release() -> None:
    """Close dbt-duckdb's connection to the database: the file lock goes with it."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        environment = DuckDBConnectionManager._ENV
        DuckDBConnectionManager._ENV = None
    if environment is not None:
        environment.close()


def _common_args(db: Path) -> list[str]:
    return ["--project-dir", str(settings.DBT_PROJECT_DIR), "--profiles-dir", str(settings.DBT_PROJECT_DIR),
            "--target-path", str(db.parent / "dbt_target"), "--log-path", str(db.parent / "dbt_logs"),
            "--log-level", "none", "--log-level-file", LOG_LEVEL_FILE]


def _manifest(db: Path, sink: Callable[[Any], None]) -> Any:
    """dbt's parsed project for a database named like `db`: parsed once per process (and project
    version), then reused; dbt itself parses partially when the target folder allows it."""
    from dbt.cli.main import dbtRunner

    from registry.models.builds import project_digest

    key = (project_digest(), db.stem)
    if key not in _MANIFESTS:
        # --no-write-json: the build that follows writes manifest.json (and run_results.json) itself;
        # writing it here too cost ~0.5 s a night. partial_parse.msgpack is written either way.
        result = dbtRunner(callbacks=[sink]).invoke(["parse", *_common_args(db), "--vars", json.dumps(_PLAN_VARS),
                                                     "--no-write-json"])
        if isinstance(result.exception, KeyboardInterrupt):
            raise result.exception
        if not result.success or result.result is None:
            raise DbtError(f"dbt could not parse the project {settings.DBT_PROJECT_DIR}: {result.exception}",
                           hint=f"the full log is in {db.parent / 'dbt_logs' / 'dbt.log'}")
        _MANIFESTS.clear()  # one project version at a time
        _MANIFESTS[key] = result.result
    return _MANIFESTS[key]


_PLAN_VARS = {"registry_plan": True}


def _uncompiled(manifest: Any) -> Any:
    """The cached manifest with last invocation's compilation undone: dbt compiles nodes in place, and
    a node marked compiled with its ephemeral CTEs injected would keep last night's CTE SQL (the
    project has no ephemeral model today; this keeps one added later correct)."""
    for node in manifest.nodes.values():
        if hasattr(node, "extra_ctes_injected"):
            node.compiled = False
            node.compiled_code = None
            node.extra_ctes_injected = False
            node.extra_ctes = []
    return manifest


def run_dbt(args: list[str], db: Path, as_of: dt.date | None = None, changed_since: dict | None = None,
            on_line: LineSink | None = None, *, plan: bool = False) -> str:
    """Run `dbt ARGS` for the database `db` and return the lines dbt would print, passing each to
    `on_line` as it comes; raise DbtError on failure. The night's inputs are either the plan the
    registry wrote (`plan`: ledger.model_build_plan) or explicit vars (`as_of`, `changed_since`:
    tests and builds by hand; neither: the facts as of today, every firm)."""
    settings.quiet_third_party()
    from dbt.cli.main import dbtRunner

    lines: list[str] = []
    tail: deque[str] = deque(maxlen=_TAIL_LINES)

    def sink(event: Any) -> None:
        info = event.info
        if info.level not in _SHOWN_LEVELS or not info.msg:
            return
        for text in str(info.msg).splitlines() or [""]:
            # what dbt prints: its log lines with the time, the answer of `dbt ls` as it is
            line = text if info.name == "PrintEvent" else f"{dt.datetime.now():%H:%M:%S}  {text}"
            lines.append(line)
            tail.append(line)
            if on_line is not None:
                on_line(line)

    def parse_sink(event: Any) -> None:  # the parse's own "Running with dbt=" would show twice
        if event.info.level in ("warn", "error"):
            sink(event)

    variables: dict[str, Any] = dict(_PLAN_VARS) if plan else {}
    if as_of is not None:
        variables["as_of_date"] = as_of.isoformat()
    if changed_since is not None:
        variables["changed_since"] = changed_since
    command = [*args, *_common_args(db)] + (["--vars", json.dumps(variables)] if variables else [])
    with _RUNNING, settings.dbt_environment(db):
        try:
            manifest = _uncompiled(_manifest(db, parse_sink))
            result = dbtRunner(manifest=manifest, callbacks=[sink]).invoke(command)
        finally:
            _release()
    if isinstance(result.exception, KeyboardInterrupt):
        raise result.exception
    if not result.success:
        text = "\n".join(tail).strip()
        if result.exception is not None:
            text += f"\n{type(result.exception).__name__}: {result.exception}"
        summary = text.split("Completed with", 1)[-1] if "Completed with" in text else text[-4000:]
        error = DbtBusy if re.search(r"could not set lock|conflicting lock", text, re.IGNORECASE) else DbtError
        raise error(f"dbt {' '.join(args)} failed for {db}:\n{summary.strip()}\n"
                    f"(full log: {db.parent / 'dbt_logs' / 'dbt.log'})")
    return "\n".join(lines)


def build(db: Path, as_of: dt.date | None = None, changed_since: dict | None = None, full_refresh: bool = False,
          data_tests: bool = True, on_line: LineSink | None = None, *, plan: bool = False) -> str:
    """`dbt build`: every model and every data test (the invariants the list relies on), for the
    registry's plan of tonight's build (`plan`) or for explicit vars. Unit tests check the SQL, not
    the night's data: they run in the test suite (`unit_tests`), not every night. `full_refresh`
    rebuilds the incremental models whole. Without `data_tests` it is `dbt run` (the benchmark's
    smoke run)."""
    args = ["build", "--exclude-resource-type", "unit_test"] if data_tests else ["run"]
    args += ["--full-refresh"] if full_refresh else []
    return run_dbt(args, db, as_of, changed_since, on_line, plan=plan)


def docs(db: Path, as_of: dt.date, on_line: LineSink | None = None) -> Path:
    """`dbt docs generate` for the database `db` (the catalog reads its relations); returns the
    folder holding index.html, manifest.json and catalog.json (serve it over http: the page fetches
    the JSON files)."""
    run_dbt(["docs", "generate"], db, as_of, on_line=on_line)
    return db.parent / "dbt_target"


def unit_tests(db: Path) -> str:
    """The dbt unit tests (fixtures only; they still need the sources to exist in `db`)."""
    return run_dbt(["test", "--select", "test_type:unit"], db, dt.date(2026, 11, 1))
