"""dbt in this process (registry.models.dbt): what a child process gave for free must still hold.

The DuckDB file is released when dbt returns (another process can open it read-write at once),
after a success and after a failure; a failure names the failing node; another writer holding the
file is DbtBusy (retryable); Ctrl-C stops a night inside dbt and leaves the database free; the
project is parsed once per process (the second call does not parse again).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from conftest import DEMO_DATE, new_db

from registry.core import settings
from registry.ingest.land import ingest_file
from registry.models import dbt as dbt_runner

pytestmark = pytest.mark.slow  # dbt builds, in this process and in children

OPEN_READ_WRITE = "import duckdb, sys; duckdb.connect(sys.argv[1]).execute('create table free_after_dbt (x int)')"
HOLD_READ_WRITE = ("import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); print('holding', flush=True); "
                   "time.sleep(120)")


def opens_read_write_from_another_process(db: Path) -> None:
    done = subprocess.run([sys.executable, "-c", OPEN_READ_WRITE, str(db)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, f"the database is still held after dbt returned: {done.stderr[-800:]}"
    with duckdb.connect(str(db)) as con:
        con.execute("drop table free_after_dbt")


def test_the_database_is_free_for_another_writer_right_after_dbt_returns(tmp_path: Path) -> None:
    db = new_db(tmp_path / "registry.duckdb")
    output = dbt_runner.run_dbt(["run", "--select", "stg_registry__firm_records"], db, DEMO_DATE)
    assert "1 of 1 OK created sql view model staging.stg_registry__firm_records" in output
    opens_read_write_from_another_process(db)
    # a second call in the same process reuses the parsed project: no parse, same answer
    parsed = dict(dbt_runner._MANIFESTS)
    assert parsed, "the first call should have kept the parsed project"
    dbt_runner.run_dbt(["run", "--select", "stg_registry__firm_records"], db, DEMO_DATE)
    assert dbt_runner._MANIFESTS.keys() == parsed.keys()
    assert all(dbt_runner._MANIFESTS[key] is parsed[key] for key in parsed)
    opens_read_write_from_another_process(db)


def test_a_failure_names_the_failing_node_and_still_releases_the_file(tmp_path: Path) -> None:
    db = tmp_path / "registry.duckdb"
    duckdb.connect(str(db)).close()  # a database without the registry's tables: the staging view fails
    with pytest.raises(dbt_runner.DbtError) as failed:
        dbt_runner.run_dbt(["run", "--select", "stg_registry__firm_records"], db, DEMO_DATE)
    assert not isinstance(failed.value, dbt_runner.DbtBusy)
    assert "stg_registry__firm_records" in str(failed.value)
    assert "raw" in str(failed.value)  # dbt's own reason: raw.firms does not exist
    opens_read_write_from_another_process(db)


def test_another_writer_holding_the_file_is_busy_and_retryable(tmp_path: Path) -> None:
    db = new_db(tmp_path / "registry.duckdb")
    holder = subprocess.Popen([sys.executable, "-c", HOLD_READ_WRITE, str(db)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        with pytest.raises(dbt_runner.DbtBusy) as busy:
            dbt_runner.run_dbt(["run", "--select", "stg_registry__firm_records"], db, DEMO_DATE)
        assert busy.value.retryable
    finally:
        holder.kill()
        holder.wait()
    opens_read_write_from_another_process(db)


def test_ctrl_c_stops_a_night_inside_dbt_and_leaves_the_database_free(tmp_path: Path) -> None:
    db = new_db(tmp_path / "registry.duckdb")
    for source, name in (("firms", "firms.csv"), ("events", "events.csv")):
        ingest_file(source, settings.sample(source, name), db)
    env = {**os.environ, settings.DB_ENV_VAR: str(db)}
    night = subprocess.Popen([sys.executable, "-m", "registry.cli", "nightly", "--date", str(DEMO_DATE)], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen: list[str] = []
    assert night.stdout is not None
    for line in night.stdout:
        seen.append(line)
        if "dbt build:" in line:  # dbt has started building nodes
            break
    else:
        pytest.fail(f"the night ended before dbt built a node: {''.join(seen)[-2000:]}")
    night.send_signal(signal.SIGINT)
    started = time.monotonic()
    try:
        rest, _ = night.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        night.kill()
        pytest.fail("Ctrl-C did not stop the night within 60 s")
    assert night.returncode == 130, f"exit {night.returncode}: {rest[-2000:]}"
    assert "interrupted" in rest and "Traceback" not in rest, rest[-2000:]
    assert time.monotonic() - started < 60
    opens_read_write_from_another_process(db)
    with duckdb.connect(str(db), read_only=True) as con:  # the build began and did not finish
        events = con.execute("select event from ledger.model_builds order by build_seq").fetchall()
    assert events == [("started",)]


def test_node_lines_are_progress_and_hooks_are_not() -> None:
    assert dbt_runner.node_progress("12 of 80 OK created sql table model marts.x ... [OK in 0.31s]") == (12, 80, "OK")
    assert dbt_runner.node_progress("1 of 1 START hook: registry.on-run-start.0 ....... [RUN]") is None
    assert dbt_runner.node_progress("1 of 1 OK hook: registry.on-run-start.0 ....... [OK in 0.02s]") is None
