"""The DuckDB file: one way to open it.

DuckDB allows one read-write process, or many read-only ones, at a time: every caller opens, works
and closes, so nothing holds the file between steps. Opening never creates tables (that is
`registry init`, `registry.pipeline.setup`), and never creates a database by accident: a missing
file is `DatabaseMissing` unless the caller is the one step allowed to create it. A file held by
another process is `DatabaseBusy`, saying who: a registry writer (it holds the run lock,
`registry.store.lock`) or a reader holding the live file (an auditor's session, a notebook: they
should read the snapshot). The auditors' snapshot is never opened for writing (`refuse_snapshot`).
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from registry.core import settings
from registry.core.errors import DatabaseBusy, DatabaseMissing, RegistryError
from registry.store.lockfile import current_holder

# DuckDB names a database after its file: a file called like one of the registry's schemas makes
# every `schema.table` ambiguous (Binder Error: Ambiguous reference to catalog or schema).
RESERVED_NAMES = frozenset({"raw", "reference", "policy", "staging", "intermediate", "marts", "ledger", "audit",
                            "main", "system", "temp", "memory"})


class BadDatabaseName(RegistryError):
    """The database file's name would shadow one of the registry's schemas."""


def check_name(db: Path) -> None:
    if Path(db).stem.lower() in RESERVED_NAMES:
        raise BadDatabaseName(f"a registry database cannot be called {Path(db).name}: DuckDB names a database after "
                              f"its file, and {Path(db).stem!r} is one of the registry's schemas",
                              hint="choose another file name, e.g. registry.duckdb")


class ReadOnlyDatabase(RegistryError):
    """The path is the auditors' snapshot (or another read-only copy): the registry never writes it."""


def _live_beside(db: Path) -> Path:
    return db.parent.parent / db.name


def refuse_snapshot(db: Path) -> None:
    """Raise `ReadOnlyDatabase` when `db` is an auditors' snapshot: a file in the snapshot folder of
    a live database ($REGISTRY_SNAPSHOT_DIR, or `snapshot/` beside it), or a file nobody may write
    (the snapshot is published 0444; root could still write it, the registry does not)."""
    db = Path(db)
    if not db.exists():
        return
    live = _live_beside(db)
    in_snapshot_dir = db.parent.resolve() == settings.snapshot_dir(live).resolve() and (
        live.exists() or db.parent != live.parent / "snapshot")
    read_only = not (db.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    if in_snapshot_dir or read_only:
        what = "the auditors' snapshot" if in_snapshot_dir else "a read-only file (mode " \
               f"{stat.S_IMODE(db.stat().st_mode):04o}: the auditors' snapshot or a copy of it)"
        hint = f"point --db (or ${settings.DB_ENV_VAR}) at the live database" + (
            f", e.g. {live}" if live.exists() else "")
        raise ReadOnlyDatabase(f"{db} is {what}: the registry never writes it (a hold or a night recorded there "
                               "would be lost at the next publication and would block the live ledger)", hint=hint)


def _busy(db: Path, err: duckdb.Error) -> DatabaseBusy | None:
    text = str(err)
    if "lock" not in text.lower():
        return None
    match = re.search(r"\(PID (\d+)\)", text)
    pid = int(match.group(1)) if match else None
    holder = current_holder(db)
    if holder is not None and holder.pid not in (os.getpid(), 0) and (pid is None or pid == holder.pid):
        return DatabaseBusy(f"the registry database {db} is being written by {holder.describe()}",
                            hint="wait for it to finish (`registry --wait SECONDS ...` waits); auditors read the "
                                 "snapshot, never the live file")
    who = f"process {pid}" if pid else "another process"
    snapshot = settings.snapshot_dir(db) / db.name
    return DatabaseBusy(
        f"the registry database {db} is held open by {who}, which is not a registry writer: a reader (an "
        "auditor's session, a notebook, a DuckDB shell) keeps the live file open, and nothing can write it "
        "while it does",
        hint=f"close that session and run again; auditors and analysts read the snapshot {snapshot}, never the "
             "live file")


@contextmanager
def connect(db: Path, *, read_only: bool = False, create: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the database and always close it; `create` only for `registry init` and the demo."""
    check_name(db)
    if not db.exists():
        if not create:
            raise DatabaseMissing(f"no registry database at {db}")
        db.parent.mkdir(parents=True, exist_ok=True)
    if not read_only:
        refuse_snapshot(db)
    try:
        con = duckdb.connect(str(db), read_only=read_only)
    except duckdb.Error as err:
        busy = _busy(db, err)
        if busy is not None:
            raise busy from err
        raise
    try:
        yield con
    finally:
        con.close()
