"""The Airflow DAGs: they parse cleanly, declare what the design says, and run end to end.

Airflow runs in child processes with AIRFLOW_HOME in a temporary folder (see airflow_env.py);
`airflow db migrate` runs once per session.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from conftest import new_db

try:  # tests/ is not a package today; keep working if it becomes one
    from tests.airflow_env import (
        E2E_SOURCE,
        airflow_environ,
        migrate,
        run_in_airflow,
    )
except ImportError:
    from airflow_env import (  # type: ignore[no-redef]
        E2E_SOURCE,
        airflow_environ,
        migrate,
        run_in_airflow,
    )

from registry.ingest.spec import DEFAULT_SOURCES_DIR, SOURCES_DIR_ENV, spec_names
from registry.pipeline.demo import fill_demo_inbox

pytestmark = pytest.mark.e2e  # the DAGs run in Airflow (dag.test) in child processes

SOURCES = spec_names()  # one ingest DAG per spec file in sources/
DAG_IDS = {"registry_nightly", *(f"registry_ingest_{name}" for name in SOURCES)}


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh AIRFLOW_HOME with a migrated SQLite metadata db, once per session."""
    home = tmp_path_factory.mktemp("airflow_home")
    seconds = migrate(airflow_environ(home))
    print(f"\nairflow db migrate: {seconds:.1f}s")
    return home


@pytest.fixture(scope="session")
def described(airflow_home: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What a DagBag over dags/ holds, as seen from inside Airflow."""
    out = tmp_path_factory.mktemp("describe") / "describe.json"
    findings, _ = run_in_airflow(airflow_environ(airflow_home), "describe", out)
    return findings


# ---------------------------------------------------------------- parsing


def test_dag_files_import_without_errors(described: dict[str, Any]) -> None:
    assert described["import_errors"] == {}
    assert set(described["dags"]) == DAG_IDS


def test_dag_files_are_light_to_parse(described: dict[str, Any]) -> None:
    assert described["heavy_modules_loaded"] == []
    for dag in described["dags"].values():
        assert not Path(dag["fileloc"]).name.startswith("dbt_")


def test_every_spec_has_an_ingest_dag_that_scans_the_inbox(described: dict[str, Any]) -> None:
    assert {"events", "firms"} <= set(SOURCES) and len(SOURCES) >= 8
    for name in SOURCES:
        dag = described["dags"][f"registry_ingest_{name}"]
        assert dag["tasks"] == ["ingest", "landed", "list_inbox"]
        assert dag["edges"] == [["ingest", "landed"], ["list_inbox", "ingest"]]
        options = dag["task_options"]
        assert options["ingest"]["mapped"] is True
        # DuckDB: one writer process at a time, across every ingest DAG (one pool, one slot).
        assert options["ingest"]["pool"] == "registry_duckdb"
        assert options["ingest"]["max_active_tis_per_dag"] == 1
        # An empty inbox (mapped over nothing = skipped) is still a successful scan.
        assert options["landed"]["trigger_rule"] == "none_failed"
        assert dag["outlets"]["landed"] == [f"registry_raw_{name}"]
        assert dag["timetable"] == "CronTriggerTimetable"
        assert dag["timetable_timezone"] == "Asia/Shanghai"
        assert dag["catchup"] is False and dag["max_active_runs"] == 1
        assert "registry" in dag["tags"]
        assert "收件箱" in dag["doc_md"] and "inbox" in dag["doc_md"]
    # The plain sources keep the hourly scan at :30 of the old registry_ingest DAG.
    assert described["dags"]["registry_ingest_events"]["cron"] == "30 * * * *"


@pytest.fixture(scope="session")
def described_with_new_spec(airflow_home: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The DagBag again, over a sources folder holding one spec more than the repository's."""
    import shutil

    folder = tmp_path_factory.mktemp("sources") / "sources"
    shutil.copytree(DEFAULT_SOURCES_DIR, folder)
    copy = folder / "little_giant_copy"
    shutil.copytree(folder / "little_giant", copy)  # a new source is a new folder: spec, suite, samples
    spec = copy / "source.yml"
    spec.write_text(spec.read_text(encoding="utf-8").replace("name: little_giant", "name: little_giant_copy"),
                    encoding="utf-8")
    suite = copy / "expectations.json"
    suite.write_text(suite.read_text(encoding="utf-8").replace('"suite": "little_giant"',
                                                               '"suite": "little_giant_copy"'), encoding="utf-8")
    (folder / "broken_source").mkdir()
    (folder / "broken_source" / "source.yml").write_text("name: broken_source\ncontract: nothing\n",
                                                        encoding="utf-8")
    out = tmp_path_factory.mktemp("describe_new") / "describe.json"
    findings, _ = run_in_airflow(airflow_environ(airflow_home, **{SOURCES_DIR_ENV: str(folder)}), "describe", out)
    return findings


def test_adding_a_spec_adds_a_dag_and_the_nightly_waits_for_it(
    described: dict[str, Any], described_with_new_spec: dict[str, Any]
) -> None:
    before, after = set(described["dags"]), set(described_with_new_spec["dags"])
    assert after - before == {"registry_ingest_little_giant_copy", "registry_ingest_broken_source"}
    assert described_with_new_spec["import_errors"] == {}
    new = described_with_new_spec["dags"]["registry_ingest_little_giant_copy"]
    assert new["outlets"]["landed"] == ["registry_raw_little_giant_copy"]
    nightly_assets = described_with_new_spec["dags"]["registry_nightly"]["schedule_assets"]
    assert {"registry_raw_little_giant_copy", "registry_raw_broken_source"} <= set(nightly_assets)
    # A malformed spec does not hide the others: its DAG is one task that fails with the spec error.
    broken = described_with_new_spec["dags"]["registry_ingest_broken_source"]
    assert broken["tasks"] == ["spec_error"] and "contract" in broken["doc_md"]


def test_nightly_dag_declares_check_catalog_build_publish(described: dict[str, Any]) -> None:
    dag = described["dags"]["registry_nightly"]
    assert dag["tasks"] == ["build_models", "check_list_date", "load_catalog", "publish_list"]
    assert dag["edges"] == [["build_models", "publish_list"], ["check_list_date", "load_catalog"],
                            ["load_catalog", "build_models"]]
    # A refusal is final (AirflowFailException: the scheduler test sees it fail on its first try), but
    # the task keeps its retries for a busy database; the writers share DuckDB's one slot.
    options = dag["task_options"]
    assert options["check_list_date"]["retries"] == 2 and options["check_list_date"]["pool"] == "default_pool"
    assert {options[t]["pool"] for t in ("load_catalog", "build_models", "publish_list")} == {"registry_duckdb"}
    # 02:00 Shanghai, or as soon as every source has landed since the last run (cron plus assets).
    assert dag["timetable"] == "AssetOrTimeSchedule"
    assert dag["inner_timetable"] == "CronTriggerTimetable"
    assert dag["inner_cron"] == "0 2 * * *"
    assert dag["inner_timezone"] == "Asia/Shanghai"
    assert dag["asset_condition"] == "AssetAll"
    assert dag["schedule_assets"] == sorted(f"registry_raw_{name}" for name in SOURCES)
    assert dag["dag_timezone"] == "Asia/Shanghai"
    assert dag["catchup"] is False
    assert dag["max_active_runs"] == 1
    assert dag["params"] == {"list_date": None, "engine": None}
    # Runs after load_catalog/build_models skipped for a night already published.
    assert dag["task_options"]["publish_list"]["trigger_rule"] == "none_failed"
    assert "兑付清单" in dag["doc_md"] and "disbursement list" in dag["doc_md"]


def test_a_scheduled_slot_run_hours_late_publishes_nothing(described: dict[str, Any]) -> None:
    """Unpausing runs the latest 02:00 slot at once: hours late, it is refused unless asked for by date."""
    cases = described["late_slot_cases"]
    assert cases["scheduled, on time"] is None and cases["scheduled, 2 h late"] is None
    refused = cases["scheduled, 13 h late (unpaused in the afternoon)"]
    assert refused and "13.0 h late" in refused and "list_date=2026-11-01" in refused
    assert cases["scheduled, 13 h late, list_date given"] is None
    assert cases["manual, 13 h late"] is None and cases["asset_triggered, 13 h late"] is None


def test_nightly_list_date_is_the_shanghai_date_of_the_run(described: dict[str, Any]) -> None:
    assert described["list_date_cases"] == {
        "2026-10-31T18:00Z": "2026-11-01",
        "2026-10-31T15:59Z": "2026-10-31",
        "2026-10-31T16:00Z": "2026-11-01",
        "naive 2026-10-31T18:00 (UTC)": "2026-11-01",
        "no logical date, run_after 2026-11-02T01:00+08:00": "2026-11-02",
        "override 2026-12-31": "2026-12-31",
    }


# ---------------------------------------------------------------- end to end


def _assert_all_succeeded(run: dict[str, Any], name: str, log: Path) -> None:
    assert run["state"] == "success", f"{name}: {run['tis']} (log: {log})"
    assert all(state == "success" for state in run["tis"].values()), f"{name}: {run['tis']} (log: {log})"


def test_ingest_dags_end_to_end(airflow_home: Path, tmp_path: Path) -> None:
    db = new_db(tmp_path / "registry.duckdb")
    lists = tmp_path / "lists"
    inbox = tmp_path / "inbox"
    fill_demo_inbox(inbox)  # every bundled sample, as `make airflow` delivers them
    env = airflow_environ(
        airflow_home,
        REGISTRY_DB=str(db),
        REGISTRY_INBOX=str(inbox),
        REGISTRY_OUTPUT=str(lists),
    )
    out = tmp_path / "e2e.json"
    started = time.perf_counter()
    result, _ = run_in_airflow(env, "e2e", out)
    print(
        f"\nend to end in Airflow: {time.perf_counter() - started:.1f}s; "
        + ", ".join(f"{k} {v['seconds']}s" for k, v in result.items() if isinstance(v, dict) and "seconds" in v)
    )
    log = out.with_suffix(".log")
    logs = log.read_text(encoding="utf-8", errors="replace")
    assert result["import_errors"] == {}

    # No $REGISTRY_INBOX: the scan fails, saying so; nothing falls back to the bundled samples.
    no_inbox = result["no_inbox"]
    assert no_inbox["tis"]["list_inbox"] == "failed", no_inbox["tis"]
    assert "ingest" not in no_inbox["returns"]

    # Ingest: the generated DAGs of firms and events, one mapped task instance per inbox file.
    ingest = result["ingest"]
    firms_files = sorted(p.name for p in inbox.glob("firms*.csv"))
    events_files = sorted(p.name for p in inbox.glob("events*.csv"))
    assert firms_files and "events_bad.csv" in events_files
    assert sum(1 for k in ingest["tis"] if k.startswith("firms.ingest[")) == len(firms_files)
    assert sum(1 for k in ingest["tis"] if k.startswith("events.ingest[")) == len(events_files)
    # events_bad.csv fails its GX suite: its good rows land, its task is red; every other file is green,
    # and the source's Asset is not updated by this scan (landed does not run).
    bad = f"events.ingest[{events_files.index('events_bad.csv')}]"
    assert ingest["tis"][bad] == "failed", ingest["tis"]
    assert ingest["tis"]["events.landed"] == "upstream_failed", ingest["tis"]
    assert all(state == "success" for key, state in ingest["tis"].items()
               if key not in (bad, "events.landed")), ingest["tis"]
    for key, report in ingest["returns"].items():
        if ".ingest[" in key:
            assert isinstance(report, dict) and report, key
    # The same inbox again is a no-op, not a failure.
    _assert_all_succeeded(result["ingest_again"], "registry_ingest_events (again)", log)
    assert all(r["already_loaded"] for k, r in result["ingest_again"]["returns"].items() if k.startswith("ingest["))

    # A declarative source's generated DAG lands its XLSX sample; the sample repeats a firm, which its
    # GX suite (uscc unique, mostly 0.75) rejects for the batch: rows landed, task red.
    source = result["ingest_source"]
    assert source["tis"] == {"list_inbox": "success", "ingest[0]": "failed", "landed": "upstream_failed"}, source
    assert "Great Expectations suite: GX suite little_giant: 7/8 passed; failed: uscc unique" in logs

    # A reader can open the file once the runs are over.
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        (little_giant,) = con.execute("select count(*) from raw.events where source = ?", [E2E_SOURCE]).fetchone()
    finally:
        con.close()
    assert little_giant == 5  # the red task's good rows landed (one row was a duplicate)
