"""The DuckDB file: one way to open it.

DuckDB allows one read-write process, or many read-only ones, at a time: every caller opens, works
and closes, so nothing holds the file between steps. Opening never creates tables (that is
`registry init`, `registry.pipeline.setup`), and never creates a database by accident: a missing
file is `DatabaseMissing` unless the caller is the one step allowed to create it. A file held by
another process is `DatabaseBusy`, with who to wait for.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from registry.core.errors import DatabaseBusy, DatabaseMissing


def _busy(db: Path, err: duckdb.Error) -> DatabaseBusy | None:
    text = str(err)
    if "lock" not in text.lower():
        return None
    holder = text.split("(PID", 1)[-1].split(")", 1)[0].strip() if "(PID" in text else ""
    who = f" (process {holder})" if holder else ""
    return DatabaseBusy(f"the registry database {db} is in use by another process{who}")


@contextmanager
def connect(db: Path, *, read_only: bool = False, create: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the database and always close it; `create` only for `registry init` and the demo."""
    if not db.exists():
        if not create:
            raise DatabaseMissing(f"no registry database at {db}")
        db.parent.mkdir(parents=True, exist_ok=True)
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
