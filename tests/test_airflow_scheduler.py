"""The real scheduler, once: Airflow's scheduler, DAG processor and API server on a temporary
AIRFLOW_HOME (ops/airflow_local.py, what `make airflow` runs), the ingest DAGs and the nightly run by
the scheduler (not `dag.test()`), triggered through the REST API as an operator's UI would.

What it shows: the pool exists and the writers get through it; a file failing its GX suite fails
its task on the first try (no retries) while the good file lands; the nightly publishes the list
(the demo's total) with dbt's node lines in the build_models task log; the same night again
rebuilds nothing and returns the same list; an earlier night is refused by the first task, on its
first try, before any build. The scheduler here runs only what is
triggered (`use_job_schedule` off), so the test does not depend on the wall clock; the refusal of a
late cron slot is `late_slot` (tests/test_dags.py). Every component is stopped at the end and the
temporary home removed with pytest's tmp_path.
"""

from __future__ import annotations

import shutil
import time
from decimal import Decimal
from typing import Any

import duckdb
import pytest
from conftest import DEMO_DATE, new_db

from ops import airflow_local
from ops.browser import _free_port
from registry.core import settings
from registry.pipeline.demo import SAMPLE_FILES

pytestmark = [pytest.mark.e2e, pytest.mark.longest]  # the real Airflow scheduler, API server, DAG processor

DEMO_TOTAL = Decimal("6190000.00")  # tests/test_nightly.py: the bundled samples on 2026-11-01


@pytest.fixture(scope="module")
def airflow(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("scheduler")
    home, inbox = root / "airflow_home", root / "inbox"
    inbox.mkdir()
    for source, name in SAMPLE_FILES:  # the demo's deliveries
        shutil.copy(settings.sample(source, name), inbox / name)
    db = new_db(root / "registry.duckdb")
    port = _free_port()
    env = airflow_local.environ(home, port, {"REGISTRY_DB": str(db), "REGISTRY_INBOX": str(inbox)},
                                fast=True, timetables=False)
    started = time.perf_counter()
    airflow_local.prepare(home, env)
    running = airflow_local.start(home, port, env)
    try:
        airflow_local.wait_healthy(running)
        jwt = airflow_local.token(running)
        airflow_local.ensure_pools(running, jwt)
        print(f"\nscheduler, dag-processor, api-server up in {time.perf_counter() - started:.0f}s")
        yield {"running": running, "jwt": jwt, "db": db, "home": home, "started": started}
    finally:
        running.stop()
        print(f"\nreal scheduler test: {time.perf_counter() - started:.0f}s in all")


def _api(af: dict[str, Any], method: str, path: str, body: dict | None = None) -> dict:
    return airflow_local.api(af["running"], af["jwt"], method, path, body)


def _wait_for_dags(af: dict[str, Any], dag_ids: list[str], timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = {d["dag_id"] for d in _api(af, "GET", "/dags?limit=100")["dags"]}
        if set(dag_ids) <= found:
            return
        assert not af["running"].dead(), af["running"].dead()
        time.sleep(2)
    raise TimeoutError(f"the DAG processor did not register {dag_ids} within {timeout:.0f}s")


def _run(af: dict[str, Any], dag_id: str, conf: dict | None = None, timeout: float = 420) -> dict[str, Any]:
    """Trigger `dag_id` (REST, as the UI's Trigger button), wait for the scheduler to finish it."""
    run = _api(af, "POST", f"/dags/{dag_id}/dagRuns", {"logical_date": None, "conf": conf or {}})
    path = f"/dags/{dag_id}/dagRuns/{run['dag_run_id']}"
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        state = _api(af, "GET", path)["state"]
        if state in ("success", "failed"):
            break
        assert not af["running"].dead(), af["running"].dead()
        time.sleep(2)
    else:
        raise TimeoutError(f"{dag_id} did not finish within {timeout:.0f}s")
    tis = _api(af, "GET", f"{path}/taskInstances")["task_instances"]
    return {
        "state": state, "seconds": round(time.monotonic() - started, 1), "run_id": run["dag_run_id"],
        "tis": {(t["task_id"] if t["map_index"] < 0 else f"{t['task_id']}[{t['map_index']}]"):
                (t["state"], t["try_number"]) for t in tis},
    }


def _task_log(af: dict[str, Any], dag_id: str, run_id: str, task_id: str) -> str:
    logs = sorted((af["home"] / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}" / f"task_id={task_id}").rglob("*.log"))
    assert logs, f"no log for {dag_id}/{run_id}/{task_id}"
    return "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in logs)


def test_the_scheduler_runs_ingest_and_nightly_and_publishes_the_list(airflow: dict[str, Any]) -> None:
    af = airflow
    dag_ids = ["registry_ingest_firms", "registry_ingest_events", "registry_nightly"]
    _wait_for_dags(af, dag_ids)
    pools = {p["name"]: p["slots"] for p in _api(af, "GET", "/pools")["pools"]}
    assert pools.get("registry_duckdb") == 1, pools
    for dag_id in dag_ids:  # created paused: unpausing is the operator's act
        assert _api(af, "GET", f"/dags/{dag_id}")["is_paused"] is True
        _api(af, "PATCH", f"/dags/{dag_id}", {"is_paused": False})

    firms = _run(af, "registry_ingest_firms")
    assert firms["state"] == "success", firms
    events = _run(af, "registry_ingest_events")
    # events.csv lands; events_bad.csv fails its GX suite: red on the first try, never retried.
    assert events["state"] == "failed", events
    assert events["tis"]["ingest[0]"] == ("success", 1), events
    assert events["tis"]["ingest[1]"] == ("failed", 1), events
    gx_log = _task_log(af, "registry_ingest_events", events["run_id"], "ingest")
    assert "fails its Great Expectations suite" in gx_log and "row 4" in gx_log and "Data Docs:" in gx_log

    nightly = _run(af, "registry_nightly", {"list_date": DEMO_DATE.isoformat()})
    assert nightly["state"] == "success", nightly
    assert {t: s for t, (s, _) in nightly["tis"].items()} == {
        "check_list_date": "success", "load_catalog": "success", "build_models": "success", "publish_list": "success"}
    published = _api(af, "GET", f"/dags/registry_nightly/dagRuns/{nightly['run_id']}/taskInstances/publish_list"
                               "/xcomEntries/return_value")["value"]
    assert published["date"] == DEMO_DATE.isoformat() and Decimal(published["total"]) == DEMO_TOTAL
    assert sum(Decimal(line["amount"]) for line in published["lines"]) == DEMO_TOTAL
    build_log = _task_log(af, "registry_nightly", nightly["run_id"], "build_models")
    assert "OK created sql incremental model marts.fct_entitlements" in build_log, build_log[-3000:]
    assert "PASS" in build_log and "Completed successfully" in build_log

    with duckdb.connect(str(af["db"]), read_only=True) as con:
        (total,) = con.execute("select sum(amount) from ledger.lines where list_date = ?", [DEMO_DATE]).fetchone()
        (loads_failed,) = con.execute("select count(*) from raw.loads where gx_success = false").fetchone()
    assert total == DEMO_TOTAL and loads_failed == 1
    lists = settings.output_dir(af["db"])
    assert (lists / f"免申即享兑付清单_{DEMO_DATE}.csv").is_file()

    # The same night again: nothing rebuilt, the same list returned.
    rerun = _run(af, "registry_nightly", {"list_date": DEMO_DATE.isoformat()})
    assert {t: s for t, (s, _) in rerun["tis"].items()} == {
        "check_list_date": "success", "load_catalog": "skipped", "build_models": "skipped", "publish_list": "success"}
    again = _api(af, "GET", f"/dags/registry_nightly/dagRuns/{rerun['run_id']}/taskInstances/publish_list"
                            "/xcomEntries/return_value")["value"]
    assert again == published

    # An earlier night: refused by the first task, on its first try; nothing built.
    earlier = _run(af, "registry_nightly", {"list_date": "2026-10-01"})
    assert earlier["state"] == "failed"
    assert earlier["tis"]["check_list_date"] == ("failed", 1), earlier
    assert {earlier["tis"][t][0] for t in ("load_catalog", "build_models", "publish_list")} == {"upstream_failed"}
    refused = _task_log(af, "registry_nightly", earlier["run_id"], "check_list_date")
    assert "can no longer be listed" in refused
    print(f"\nfirms {firms['seconds']}s, events {events['seconds']}s, nightly {nightly['seconds']}s, "
          f"rerun {rerun['seconds']}s, earlier night refused in {earlier['seconds']}s")
