"""One writer, said up front: the run lock (registry.store.lock). A second writer is refused at
once naming who holds the lock and since when, or waits with --wait; the Airflow tasks' functions
take the same lock; a reader holding the live file gets a clear message; a stale lock is taken
over with a note. No traceback reaches the operator."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from conftest import EVENT_HEADER, new_db

from registry.cli import main
from registry.core import settings
from registry.core.errors import DatabaseBusy
from registry.core.uscc import make_uscc
from registry.ingest.land import land_source
from registry.ledger.holds import record
from registry.pipeline import nightly
from registry.store.lock import WriterBusy, writer_lock
from registry.store.lockfile import current_holder, lock_path

pytestmark = pytest.mark.slow  # nights and ingests in child processes

HOLD_LOCK = r"""
import sys, time
from pathlib import Path
from registry.store.lock import writer_lock
db, ready, seconds = Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3])
with writer_lock(db, "registry nightly --date 2026-11-02"):
    ready.touch()
    time.sleep(seconds)
"""
HOLD_READER = r"""
import sys, time, duckdb
from pathlib import Path
con = duckdb.connect(sys.argv[1], read_only=True)
Path(sys.argv[2]).touch()
time.sleep(float(sys.argv[3]))
"""


def cli(*args: str) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(list(args))
    return code, err.getvalue()


@contextlib.contextmanager
def holding(script: str, db: Path, tmp_path: Path, seconds: float = 30) -> subprocess.Popen:
    ready = tmp_path / f"ready-{time.monotonic_ns()}"
    child = subprocess.Popen([sys.executable, "-c", script, str(db), str(ready), str(seconds)])
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert child.poll() is None and time.monotonic() < deadline, "the holder did not start"
            time.sleep(0.05)
        yield child
    finally:
        child.kill()
        child.wait()


def events_file(tmp_path: Path, n: int, name: str = "events.csv", serial: int = 0) -> Path:
    path = tmp_path / name
    lines = [",".join(EVENT_HEADER)] + [
        f"{make_uscc('350102', serial + i)},企业{i},hitech,granted,national,2026-03-18,2026-03-25,GR{serial + i},,,,,,"
        for i in range(n)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_second_writer_is_refused_at_once_naming_the_holder(tmp_path: Path) -> None:
    db = new_db(tmp_path / "r.duckdb")
    with holding(HOLD_LOCK, db, tmp_path) as child:
        started = time.monotonic()
        code, err = cli("--db", str(db), "ingest", "events", str(events_file(tmp_path, 3)))
        assert time.monotonic() - started < 10
    assert code == 2 and "Traceback" not in err
    assert f"is being written by process {child.pid}" in err
    assert "`registry nightly --date 2026-11-02`, since 20" in err and "--wait SECONDS" in err
    assert duckdb.connect(str(db), read_only=True).execute("select count(*) from raw.loads").fetchone() == (0,)


def test_a_second_night_records_no_build_and_every_airflow_step_is_refused(tmp_path: Path) -> None:
    db = new_db(tmp_path / "r.duckdb")
    day = dt.date(2026, 11, 1)
    with holding(HOLD_LOCK, db, tmp_path):
        for step in (lambda: nightly.run_nightly(day, db), lambda: nightly.load_rules(db),
                     lambda: nightly.build_models(day, db), lambda: nightly.publish_list(day, db),
                     lambda: land_source("events", events_file(tmp_path, 2), db),
                     lambda: record(db, "e", "hold", "r", "me")):
            with pytest.raises(WriterBusy, match="is being written by process"):
                step()
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select count(*) from ledger.model_builds").fetchone() == (0,)


def test_wait_waits_for_the_writer_to_finish(tmp_path: Path) -> None:
    db = new_db(tmp_path / "r.duckdb")
    with holding(HOLD_LOCK, db, tmp_path, seconds=2):
        started = time.monotonic()
        code, err = cli("--db", str(db), "--wait", "60", "ingest", "events", str(events_file(tmp_path, 3)))
        waited = time.monotonic() - started
    assert code == 0, err
    assert waited > 1
    code, err = cli("--db", str(db), "ingest", "--wait", "0.5", "events", str(events_file(tmp_path, 3, "b.csv", 9)))
    assert code == 0, err  # --wait after the command, and nobody writing: at once


def test_two_ingests_at_once_one_refused_cleanly(tmp_path: Path) -> None:
    db = new_db(tmp_path / "r.duckdb")
    big = events_file(tmp_path, 20_000, "big.csv")
    small = events_file(tmp_path, 3, "small.csv", serial=50_000)
    env = dict(os.environ)
    first = subprocess.Popen([sys.executable, "-m", "registry.cli", "--db", str(db), "ingest", "events", str(big)],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while current_holder(db) is None:
        assert first.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)
    second = subprocess.run([sys.executable, "-m", "registry.cli", "--db", str(db), "ingest", "events", str(small)],
                            env=env, capture_output=True, text=True, timeout=120, check=False)
    _, err = first.communicate(timeout=600)
    assert first.returncode == 0, err
    assert second.returncode == 2 and "Traceback" not in second.stderr
    assert f"being written by process {first.pid}" in second.stderr and "big.csv" in second.stderr
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select count(*) from raw.events").fetchone() == (20_000,)


def test_a_reader_holding_the_live_file_gets_a_clear_message(tmp_path: Path) -> None:
    db = new_db(tmp_path / "r.duckdb")
    with holding(HOLD_READER, db, tmp_path) as reader:
        code, err = cli("--db", str(db), "ingest", "events", str(events_file(tmp_path, 3)))
        with pytest.raises(DatabaseBusy, match="not a registry writer: a reader"):
            nightly.load_rules(db)
    assert code == 2 and "Traceback" not in err and "IOException" not in err
    assert f"held open by process {reader.pid}" in err
    assert f"auditors and analysts read the snapshot {settings.snapshot_dir(db) / db.name}" in err
    assert current_holder(db) is None  # the refused writer released the run lock


def test_a_stale_lock_is_taken_over_with_a_note(tmp_path: Path) -> None:
    db = new_db(tmp_path / "r.duckdb")
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    pid = int(gone.stdout)
    lock_path(db).write_text(json.dumps({"pid": pid, "host": "vm", "command": "registry nightly --date 2026-11-01",
                                         "started_at": "2026-11-01T02:00:00+08:00"}), encoding="utf-8")
    code, err = cli("--db", str(db), "ingest", "events", str(events_file(tmp_path, 3)))
    assert code == 0
    assert f"note: took over the run lock of r.duckdb from process {pid}" in err and "that process is gone" in err
    assert lock_path(db).read_text() == ""  # released


def test_the_lock_is_reentrant_and_released(tmp_path: Path) -> None:
    db = new_db(tmp_path / "r.duckdb")
    with writer_lock(db, "outer") as outer:
        with writer_lock(db, "inner") as inner:
            assert inner.pid == outer.pid == os.getpid()
        assert current_holder(db).command == "outer"
    assert current_holder(db) is None


def test_readers_take_no_lock(tmp_path: Path) -> None:
    db = new_db(tmp_path / "r.duckdb")
    with holding(HOLD_LOCK, db, tmp_path):
        assert cli("--db", str(db), "verify")[0] == 0
        assert cli("--db", str(db), "sources", "check", "events", str(events_file(tmp_path, 3)))[0] == 0
