"""Airflow for the DAG tests: a throwaway AIRFLOW_HOME, and Airflow itself in child processes.

Airflow reads its configuration once, when it is first imported, and then keeps process-wide
state (ORM session, logging setup, secrets backends). Running it in child processes means the
throwaway home is guaranteed to be the one in force, whatever else the test session imported
first, and nothing of Airflow leaks into other tests.

Used two ways:
* imported by tests/test_dags.py: `airflow_environ()`, `migrate()`, `run_in_airflow()`;
* run as a script inside that environment: `python tests/airflow_env.py describe|e2e OUT.json`.
  The script writes its findings as JSON to OUT.json; the tests assert on them.

Deliberately not set: `AIRFLOW__CORE__UNIT_TEST_MODE`. In Airflow 3 it loads Airflow's own
unit-test config on top (examples on, LocalExecutor, `create_cron_data_intervals = true`, which
changes how cron strings become timetables), so the DAGs would be tested under settings that no
deployment has.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DAGS_DIR = REPO_ROOT / "dags"

# The nightly run under test: 2026-11-01 02:00 in Asia/Shanghai (= 2026-10-31 18:00 UTC).
E2E_LOGICAL_DATE = "2026-11-01T02:00:00+08:00"
E2E_LIST_DATE = "2026-11-01"
# The declarative source whose generated DAG runs end to end (its sample: sources/little_giant/samples/).
E2E_SOURCE = "little_giant"


# ---------------------------------------------------------------- test-side helpers


def airflow_environ(home: Path, **extra: str) -> dict[str, str]:
    """Environment for an Airflow child process living entirely in `home`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_DIR),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(home / "plugins"),
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
            # No network: nothing in the test may call out.
            "DO_NOT_TRACK": "1",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "GX_ANALYTICS_ENABLED": "false",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


def migrate(env: dict[str, str], timeout: float = 300) -> float:
    """`airflow db migrate` for a fresh home; returns the seconds it took."""
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"airflow db migrate failed (rc={proc.returncode}):\n{_tail(proc)}")
    return elapsed


def run_in_airflow(env: dict[str, str], command: str, out: Path, timeout: float = 900) -> tuple[dict[str, Any], str]:
    """Run this file as a script (`command`) in the Airflow env; return (findings, output)."""
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), command, str(out)],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    output = proc.stdout + proc.stderr
    out.with_suffix(".log").write_text(output, encoding="utf-8")
    if proc.returncode != 0 or not out.exists():
        raise AssertionError(f"`{command}` failed (rc={proc.returncode}); output tail:\n{_tail(proc)}")
    return json.loads(out.read_text(encoding="utf-8")), output


def _tail(proc: subprocess.CompletedProcess[str], lines: int = 80) -> str:
    return "\n".join((proc.stdout + proc.stderr).splitlines()[-lines:])


# ---------------------------------------------------------------- script side (inside Airflow)


def _dagbag():
    # Airflow 3.3's DagBag has no `include_examples` any more: example DAGs are a bundle of
    # their own, off because of AIRFLOW__CORE__LOAD_EXAMPLES=False. safe_mode=False: parse every
    # .py file, not only those that mention "airflow" and "dag".
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_DIR), safe_mode=False)


def _describe() -> dict[str, Any]:
    bag = _dagbag()
    dags: dict[str, Any] = {}
    for dag_id, dag in bag.dags.items():
        timetable = dag.timetable
        inner = getattr(timetable, "timetable", None)  # AssetOrTimeSchedule: the time part
        condition = getattr(timetable, "asset_condition", None)
        dags[dag_id] = {
            "fileloc": dag.fileloc,
            "inner_timetable": type(inner).__name__ if inner is not None else None,
            "inner_cron": getattr(inner, "expression", None),
            "inner_timezone": str(getattr(inner, "timezone", None)),
            "asset_condition": type(condition).__name__ if condition is not None else None,
            "schedule_assets": sorted(getattr(o, "name", str(o)) for o in getattr(condition, "objects", ())),
            "outlets": {t.task_id: sorted(getattr(o, "name", str(o)) for o in (t.outlets or [])) for t in dag.tasks},
            "tasks": sorted(dag.task_ids),
            "edges": sorted([up.task_id, down_id] for up in dag.tasks for down_id in sorted(up.downstream_task_ids)),
            "timetable": type(timetable).__name__,
            "cron": getattr(timetable, "expression", None),
            "timetable_timezone": str(getattr(timetable, "timezone", None)),
            "dag_timezone": str(dag.timezone),
            "catchup": dag.catchup,
            "max_active_runs": dag.max_active_runs,
            "tags": sorted(dag.tags),
            "doc_md": dag.doc_md or "",
            "params": {k: dag.params.get_param(k).value for k in dag.params},
            "task_options": {
                t.task_id: {
                    "mapped": bool(t.is_mapped),
                    "max_active_tis_per_dag": t.max_active_tis_per_dag,
                    "pool": t.pool,
                    "trigger_rule": str(getattr(t.trigger_rule, "value", t.trigger_rule)),
                    "retries": t.retries,
                }
                for t in dag.tasks
            },
        }
    return {
        "import_errors": {str(k): str(v) for k, v in bag.import_errors.items()},
        "dags": dags,
        # Parsing must stay light: the DAG processor parses these files every few seconds.
        "heavy_modules_loaded": sorted(m for m in HEAVY_MODULES if m in sys.modules),
        "list_date_cases": _list_date_cases(),
        "late_slot_cases": _late_slot_cases(),
    }


HEAVY_MODULES = (
    "dbt",
    "duckdb",
    "great_expectations",
    "openpyxl",
    "pandas",
    "registry.catalog.read",
    "registry.ingest.land",
    "registry.pipeline.nightly",
)


def _nightly_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("_nightly_dag_under_test", DAGS_DIR / "registry_nightly.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _late_slot_cases() -> dict[str, str | None]:
    """registry_nightly's "never publish a stale slot by surprise" rule on a few runs."""
    import datetime as dt

    late_slot = _nightly_module().late_slot
    slot = dt.datetime(2026, 10, 31, 18, 0, tzinfo=dt.UTC)  # 2026-11-01 02:00 Shanghai
    hours = dt.timedelta(hours=1)
    return {
        "scheduled, on time": late_slot("scheduled", slot, slot + 0.1 * hours, explicit=False),
        "scheduled, 2 h late": late_slot("scheduled", slot, slot + 2 * hours, explicit=False),
        "scheduled, 13 h late (unpaused in the afternoon)": late_slot("scheduled", slot, slot + 13 * hours,
                                                                      explicit=False),
        "scheduled, 13 h late, list_date given": late_slot("scheduled", slot, slot + 13 * hours, explicit=True),
        "manual, 13 h late": late_slot("manual", slot, slot + 13 * hours, explicit=False),
        "asset_triggered, 13 h late": late_slot("asset_triggered", slot, slot + 13 * hours, explicit=False),
    }


def _list_date_cases() -> dict[str, str]:
    """registry_nightly's list-date rule on a few instants (the module is already parsed)."""
    import datetime as dt

    resolve = _nightly_module().resolve_list_date
    utc = dt.UTC
    cases = {
        # 02:00 Shanghai on 1 Nov is still 31 Oct in UTC: the list is for 1 Nov.
        "2026-10-31T18:00Z": resolve(dt.datetime(2026, 10, 31, 18, 0, tzinfo=utc)),
        "2026-10-31T15:59Z": resolve(dt.datetime(2026, 10, 31, 15, 59, tzinfo=utc)),
        "2026-10-31T16:00Z": resolve(dt.datetime(2026, 10, 31, 16, 0, tzinfo=utc)),
        "naive 2026-10-31T18:00 (UTC)": resolve(dt.datetime(2026, 10, 31, 18, 0)),
        "no logical date, run_after 2026-11-02T01:00+08:00": resolve(
            None, dt.datetime.fromisoformat("2026-11-02T01:00:00+08:00")
        ),
        "override 2026-12-31": resolve(dt.datetime(2026, 10, 31, 18, 0, tzinfo=utc), override="2026-12-31"),
    }
    return {k: v.isoformat() for k, v in cases.items()}


def _run(dag, **kwargs: Any) -> dict[str, Any]:
    """dag.test() once, with retries off so a failure fails now; states and return values."""
    for t in dag.tasks:
        t.retries = 0  # a mapped operator's setter writes its partial kwargs
    started = time.perf_counter()
    dr = dag.test(**kwargs)
    elapsed = time.perf_counter() - started
    tis = dr.get_task_instances()
    returns: dict[str, Any] = {}
    for ti in tis:
        if ti.state == "success":
            key = ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"
            returns[key] = ti.xcom_pull(task_ids=ti.task_id, map_indexes=ti.map_index)
    return {
        "dag_id": dag.dag_id,
        "state": str(dr.state),
        "run_id": dr.run_id,
        "logical_date": dr.logical_date.isoformat() if dr.logical_date else None,
        "seconds": round(elapsed, 2),
        "tis": {(ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"): str(ti.state) for ti in tis},
        "returns": returns,
    }


def _merge(*runs: dict[str, Any]) -> dict[str, Any]:
    """Several DAG runs as one: success only if each succeeded; task keys prefixed by nothing."""
    merged: dict[str, Any] = {"state": "success", "tis": {}, "returns": {}, "seconds": 0.0}
    for run in runs:
        if run["state"] != "success":
            merged["state"] = run["state"]
        prefix = run["dag_id"].removeprefix("registry_ingest_")
        merged["tis"].update({f"{prefix}.{k}": v for k, v in run["tis"].items()})
        merged["returns"].update({f"{prefix}.{k}": v for k, v in run["returns"].items()})
        merged["seconds"] = round(merged["seconds"] + run["seconds"], 2)
    return merged


def _e2e() -> dict[str, Any]:
    """registry_ingest without an inbox, on the inbox (twice), and a declarative source's DAG."""
    bag = _dagbag()
    if bag.import_errors:
        return {"import_errors": {str(k): str(v) for k, v in bag.import_errors.items()}}
    result: dict[str, Any] = {"import_errors": {}}
    # Without $REGISTRY_INBOX an ingest DAG scans nothing (never the sample data): list_inbox fails.
    inbox = os.environ.pop("REGISTRY_INBOX")
    try:
        result["no_inbox"] = _run(bag.get_dag("registry_ingest_firms"))
    finally:
        os.environ["REGISTRY_INBOX"] = inbox
    # The generated ingest DAGs of the plain sources, firms then events, as the inbox holds them.
    result["ingest"] = _merge(_run(bag.get_dag("registry_ingest_firms")), _run(bag.get_dag("registry_ingest_events")))
    # The same inbox again: ingesting a file twice must be a no-op, and must not fail.
    result["ingest_again"] = _run(bag.get_dag("registry_ingest_events"))
    # One generated DAG of a declarative source (XLSX, title row, renamed header) end to end.
    result["ingest_source"] = _run(bag.get_dag(f"registry_ingest_{E2E_SOURCE}"))
    # The nightly runs under the real scheduler (tests/test_airflow_scheduler.py), not here.
    return result


def main(argv: list[str]) -> int:
    command, out = argv[1], Path(argv[2])
    commands = {"describe": _describe, "e2e": _e2e}
    findings = commands[command]()
    out.write_text(json.dumps(findings, default=str, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
