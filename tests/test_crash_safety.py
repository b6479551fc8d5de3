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

pytestmark = pytest.mark.e2e  # nights and ingests killed in child processes at every step

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


# ---------------------------------------------------------------- SIGKILL during an ingest and during the exports

EXPORT_KILLER = r"""
import os, signal, sys
from pathlib import Path
real = Path.write_bytes
def write_bytes(self, data):
    if self.name.endswith(".xlsx.tmp"):   # half of the XLSX export written, then the power goes
        real(self, data[: len(data) // 2])
        os.kill(os.getpid(), signal.SIGKILL)
    return real(self, data)
Path.write_bytes = write_bytes
from registry.cli import main
sys.exit(main(["--db", sys.argv[1], "nightly", "--date", sys.argv[2]]))
"""


def big_events(path: Path, rows: int) -> Path:
    from registry.core.uscc import make_uscc

    header = "uscc,firm_name,event_type,action,level,effective_date,published_date,document_ref,program,amount"
    lines = [header] + [f"{make_uscc('350102', n)},福州{n}号科技有限公司,hitech,granted,national,2026-03-18,2026-03-25,"
                        f"GR2026350{n:05d},," for n in range(rows)]
    lines[rows // 2] += "x"  # one bad row in the middle: the quarantine must not half-land either
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def landed_state(db: Path) -> dict[str, object]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {"events": con.execute("select event_key, row_number from raw.events order by all").fetchall(),
                "quarantine": con.execute("select row_number, field, reason from raw.quarantine "
                                          "order by all").fetchall(),
                "loads": con.execute("select load_id, rows_read, rows_landed, rows_quarantined, rows_duplicate "
                                     "from raw.loads").fetchall()}


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    """A large delivery and the state an uninterrupted ingest of it ends in."""
    from conftest import new_db

    from registry.ingest.land import ingest_file

    folder = tmp_path_factory.mktemp("big")
    path = big_events(folder / "events_big.csv", 30_000)
    reference = new_db(folder / "uninterrupted.duckdb")
    ingest_file("events", path, reference)
    return path, landed_state(reference)


@pytest.mark.parametrize("point", [*crashpoints.INGEST_POINTS, "while checking rows"])
def test_an_ingest_killed_anywhere_lands_nothing_and_its_rerun_lands_everything(
        point: str, big_file: tuple[Path, dict[str, object]], tmp_path: Path) -> None:
    from conftest import new_db

    from registry.ingest.land import ingest_file
    from registry.store.lockfile import current_holder, lock_path

    path, expected = big_file
    db = new_db(tmp_path / "registry.duckdb")
    command = [sys.executable, "-m", "registry.cli", "--db", str(db), "ingest", "events", str(path)]
    if point in crashpoints.INGEST_POINTS:
        killed = subprocess.run(command, env={**os.environ, crashpoints.CRASH_ENV: point}, capture_output=True,
                                text=True, timeout=600, check=False)
    else:  # a kill from outside, a moment after the load started reading the rows
        child = subprocess.Popen(command, env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        while current_holder(db) is None:
            assert child.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        time.sleep(1.0)
        child.send_signal(signal.SIGKILL)
        child.communicate(timeout=60)
        killed = child
    assert killed.returncode == -signal.SIGKILL
    assert landed_state(db) == {"events": [], "quarantine": [], "loads": []}  # nothing half-landed
    assert lock_path(db).read_text(encoding="utf-8")  # the killed process's lock is left behind ...
    report = ingest_file("events", path, db)  # ... and taken over by the rerun
    assert report.landed == 29_999 and report.quarantined == 1
    assert landed_state(db) == expected


def test_a_night_killed_while_writing_its_exports_reruns_to_the_same_exports(
        states: dict[str, Path], tmp_path: Path) -> None:
    db = clone(states["built_second"], tmp_path / "state")
    with clean_environment():
        killed = subprocess.run([sys.executable, "-c", EXPORT_KILLER, str(db), str(SECOND)], capture_output=True,
                                text=True, timeout=600, check=False)
        assert killed.returncode == -signal.SIGKILL, killed.stderr
        leftovers = [p.name for p in (db.parent / "lists").iterdir() if p.name.endswith(".tmp")]
        assert leftovers  # the half-written XLSX is there, under its temporary name only
        run_nightly(SECOND, db)
    assert outcome(db) == outcome(db_of(states["second"]))
