"""Crash safety: a night killed (SIGKILL) at any of its steps and run again ends exactly where an
uninterrupted night ends; replaying a night gives byte-identical exports; auditors keep reading
the snapshot while a night writes.

The night under test is 2026-11-01 of the shared history (tests/audit_support.py): it reverses,
lowers and raises awards of 2026-09-30 and confirms that list. The killed run is a child process
(`python -m registry.cli nightly`) with $REGISTRY_TEST_CRASH_AT naming the step; nightly honours
it only under pytest. Kills before the models are built start from the state before the night
(the rerun builds the models); later kills start from the state with the models built for the
night (its build fingerprint matches, so neither run rebuilds). The two kills before the models
stand hit one night in turn (a rerun that crashes again), so the whole test builds twice.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from audit_support import SECOND, clean_environment, clone, db_of, export_files, outcome

from registry.core import crashpoints
from registry.pipeline.nightly import publish_list, run_nightly

pytest_plugins = ["audit_fixtures"]  # the shared history: fixtures `states`, `second`

BEFORE_MODELS = ("catalog_loaded", "dbt_finished")
READER = r"""
import json, sys, time, duckdb
path, stop = sys.argv[1], sys.argv[2]
held = duckdb.connect(path, read_only=True)   # one session kept open for the whole night
queries, errors, totals, fresh = 0, [], set(), set()
import os
while not os.path.exists(stop):
    try:
        totals.add(str(held.execute("select sum(amount) from ledger.lines").fetchone()[0]))
        with duckdb.connect(path, read_only=True) as con:   # and a new session each time
            fresh.add(str(con.execute("select count(*) from audit.list_lines").fetchone()[0]))
        queries += 1
    except Exception as err:
        errors.append(repr(err))
    time.sleep(0.05)
print(json.dumps({"queries": queries, "errors": errors[:5], "totals": sorted(totals), "fresh": sorted(fresh)}))
"""


def night_in_child(db: Path, crash_at: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, crashpoints.CRASH_ENV: crash_at} if crash_at else dict(os.environ)
    return subprocess.run([sys.executable, "-m", "registry.cli", "--db", str(db), "nightly", "--date", str(SECOND)],
                          env=env, capture_output=True, text=True, timeout=900, check=False)


@pytest.fixture(scope="module")
def rerun_while_reading(states: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """The two kills before the models stand, one after the other on the same night (the rerun
    of a crashed night crashes again, right after its dbt build), then a rerun to the end (dbt
    build included) while an auditor's process queries the published snapshot the whole time."""
    db = clone(states["before_second"], tmp_path_factory.mktemp("reader") / "state")
    snapshot = db.parent / "snapshot" / db.name
    stop = db.parent / "stop-reading"
    with clean_environment():
        for point in BEFORE_MODELS:
            killed = night_in_child(db, point)
            assert killed.returncode == -signal.SIGKILL, f"not killed at {point}: {killed.stdout}{killed.stderr}"
        reader = subprocess.Popen([sys.executable, "-c", READER, str(snapshot), str(stop)], stdout=subprocess.PIPE,
                                  text=True)
        time.sleep(1.0)
        run_nightly(SECOND, db)
        time.sleep(1.0)
        stop.touch()
        out, _ = reader.communicate(timeout=60)
    return db, json.loads(out)


@pytest.mark.parametrize("point", crashpoints.POINTS)
def test_a_night_killed_at_any_step_and_rerun_ends_as_an_uninterrupted_night(
    point: str, states: dict[str, Path], tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if point in BEFORE_MODELS:
        db, _ = request.getfixturevalue("rerun_while_reading")
    else:
        db = clone(states["built_second"], tmp_path / "state")
        with clean_environment():
            killed = night_in_child(db, point)
            assert killed.returncode == -signal.SIGKILL, f"not killed at {point}: {killed.stdout}{killed.stderr}"
            run_nightly(SECOND, db)
    assert outcome(db) == outcome(db_of(states["second"]))


def test_an_auditor_keeps_querying_the_snapshot_while_a_night_writes(
    rerun_while_reading: tuple[Path, dict], states: dict[str, Path]
) -> None:
    _, seen = rerun_while_reading
    assert seen["errors"] == []
    assert seen["queries"] >= 20  # the night (dbt build included) takes well over a second
    with duckdb.connect(str(db_of(states["before_second"]).parent / "snapshot" / "registry.duckdb"),
                        read_only=True) as con:
        total, count = con.execute("select sum(amount), count(*) from ledger.lines").fetchone()
    # The session kept open reads the old snapshot throughout; new sessions see the old one, then
    # (after the atomic swap) the new one.
    assert seen["totals"] == [f"{total:.2f}"]
    assert str(count) in seen["fresh"] and len(seen["fresh"]) <= 2


def test_replaying_the_same_night_ten_times_gives_byte_identical_exports(
    states: dict[str, Path], tmp_path: Path
) -> None:
    expected = export_files(db_of(states["second"]))
    with clean_environment():
        for replay in range(10):
            db = clone(states["built_second"], tmp_path / f"replay{replay}")
            publish_list(SECOND, db)
            assert export_files(db) == expected, f"replay {replay}"


def test_the_crash_hook_is_inert_outside_pytest(states: dict[str, Path], tmp_path: Path) -> None:
    db = clone(states["second"], tmp_path / "state")
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    env[crashpoints.CRASH_ENV] = "ledger_committed"
    done = subprocess.run([sys.executable, "-m", "registry.cli", "--db", str(db), "nightly", "--date", str(SECOND),
                           "--json"], env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["total"] == "-350000.00"
