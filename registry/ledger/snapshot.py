"""The auditors' copy: a read-only snapshot of the whole database, published after each good night.

DuckDB lets one process write a file or many read it, never both, so auditors never open the
live file. After a night is in the ledger and its exports are written, the nightly run opens
the live file read-only, copies it whole (`COPY FROM DATABASE`, every schema, table, view and
constraint) into a temporary file beside the snapshot, checks the copy's ledger against the
live one, makes it read-only (0444), fsyncs it and renames it over the previous snapshot. A
rename is atomic: a reader sees the old snapshot or the new one, never a file being written,
and a reader that has the old one open keeps reading it (the old file lives on until closed).

The snapshot keeps the live file's name (views name their catalog after it), in
$REGISTRY_SNAPSHOT_DIR or `snapshot/` beside the database. It is republished only when stale:
when its ledger (last list, chain heads, confirmations) differs from the live one.

Beside it, `parquet/` holds the same night as Parquet, for the clients that cannot open a file
of DuckDB 2.0 (the DuckDB 1.x CLI, pandas with pyarrow, Excel Power Query, Power BI): every table
of `ledger`, every view of `audit` (materialised), `raw.events` / `raw.loads` / `raw.quarantine`
(the source rows with their lineage) and `reference.cities`, one file `<schema>.<table>.parquet`
each, plus `views.sql` (creates the schemas and views over the files, so the SQL of
docs/auditing.md runs as written) and `manifest.json` (the ledger state, tables and row counts).
They are written from the published snapshot into a new folder `.parquet-<state>` and swapped
in by renaming a symbolic link `parquet` -> that folder over the old one: a reader sees the old
set or the new one, never a mix. Stale (another ledger state) or missing, the set is written
again on the next run; older folders are removed after the swap.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import duckdb

from registry.core import crashpoints, settings
from registry.core.errors import RegistryError

SNAPSHOT_ENV = settings.SNAPSHOT_ENV


class SnapshotError(RegistryError):
    """The auditors' snapshot could not be published; the live ledger is unchanged."""

READ_ONLY = 0o444
COPY_ALIAS = "registry_snapshot_copy"

# Ledger tables in foreign-key order; those copied row by row with the order of their chain.
LEDGER_ORDER = ("lists", "entitlements", "lines", "line_facts", "clause_versions", "confirmations", "holds")
ONE_BY_ONE = {"lists": "list_date", "holds": "hold_seq"}

STATE_SQL = """
select (select max(list_date) from {c}.ledger.lists),
       (select row_hash from {c}.ledger.lists order by list_date desc limit 1),
       (select row_hash from {c}.ledger.lines order by seq desc limit 1),
       (select row_hash from {c}.ledger.holds order by hold_seq desc limit 1),
       (select count(*) from {c}.ledger.confirmations)
"""


def snapshot_path(db: Path) -> Path:
    return settings.snapshot_dir(db) / db.name


def _state(con: duckdb.DuckDBPyConnection, catalog: str) -> tuple:
    return con.execute(STATE_SQL.format(c=f'"{catalog}"')).fetchone()


def state_of(path: Path) -> tuple | None:
    """The ledger state a snapshot file holds (None when there is none or it cannot be read)."""
    if not path.exists():
        return None
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            return _state(con, con.execute("select current_database()").fetchone()[0])
    except duckdb.Error:
        return None


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _discard(path: Path) -> None:
    for leftover in (path, path.with_name(path.name + ".wal")):
        leftover.unlink(missing_ok=True)


def _copy(con: duckdb.DuckDBPyConnection, catalog: str) -> None:
    """Copy every schema, table and view of `catalog` into the attached copy. DuckDB checks a
    foreign key against the rows present before the statement, so ledger rows that reference
    rows of their own table go in the order of their chain: lists and holds one by one, lines
    one night at a time (a line references only lines of earlier nights)."""
    con.execute(f'copy from database "{catalog}" to {COPY_ALIAS} (schema)')
    tables = con.execute("select schema_name, table_name from duckdb_tables() where database_name = ? "
                         "order by schema_name, table_name", [catalog]).fetchall()
    ledger_order = {name: i for i, name in enumerate(LEDGER_ORDER)}
    tables.sort(key=lambda t: (t[0] == "ledger", ledger_order.get(t[1], len(ledger_order)), t))
    for schema, table in tables:  # names from DuckDB's own catalog
        source, target = f'"{catalog}"."{schema}"."{table}"', f'{COPY_ALIAS}."{schema}"."{table}"'
        if schema == "ledger" and table in ONE_BY_ONE:
            rows = con.execute(f"select * from {source} order by {ONE_BY_ONE[table]}").fetchall()  # noqa: S608
            for row in rows:
                con.execute(f"insert into {target} values ({', '.join('?' * len(row))})", list(row))  # noqa: S608
        elif schema == "ledger" and table == "lines":
            for (night,) in con.execute(f"select distinct list_date from {source} order by 1").fetchall():  # noqa: S608
                con.execute(f"insert into {target} select * from {source} where list_date = ? order by seq",  # noqa: S608
                            [night])
        else:
            con.execute(f"insert into {target} select * from {source}")  # noqa: S608


def publish(db: Path) -> Path | None:
    """Publish the snapshot of `db` unless the current one already holds its ledger; returns the
    path when a new snapshot was swapped in. The caller must be the only writer of `db`."""
    target = snapshot_path(db)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp")
    _discard(temporary)
    with duckdb.connect(str(db), read_only=True) as con:
        catalog = con.execute("select current_database()").fetchone()[0]
        live = _state(con, catalog)
        if state_of(target) == live:
            return None
        con.execute(f"attach ? as {COPY_ALIAS} (read_only false)", [str(temporary)])
        try:
            _copy(con, catalog)
            copied = _state(con, COPY_ALIAS)
            con.execute(f"checkpoint {COPY_ALIAS}")
        except BaseException:
            con.execute(f"detach {COPY_ALIAS}")
            _discard(temporary)
            raise
        con.execute(f"detach {COPY_ALIAS}")
    if copied != live:
        _discard(temporary)
        raise SnapshotError(f"the snapshot copy of {db.name} does not hold the live ledger; not published",
                            hint="rerun the night: the snapshot is copied again from the live ledger")
    os.chmod(temporary, READ_ONLY)
    _fsync(temporary)
    crashpoints.reach("snapshot_copied")
    os.replace(temporary, target)
    _fsync(target.parent)
    crashpoints.reach("snapshot_published")
    return target


PARQUET_LINK = "parquet"
PARQUET_EXTRA = (("raw", "events"), ("raw", "loads"), ("raw", "quarantine"), ("reference", "cities"))
MANIFEST = "manifest.json"


def parquet_path(db: Path) -> Path:
    """The auditors' Parquet folder (a link to the current set)."""
    return settings.snapshot_dir(db) / PARQUET_LINK


def _parquet_tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    rows = con.execute("select schema_name, table_name from duckdb_tables() where schema_name = 'ledger' "
                       "union all select schema_name, view_name from duckdb_views() "
                       "where schema_name = 'audit' and not internal").fetchall()
    present = set(con.execute("select schema_name, table_name from duckdb_tables()").fetchall())
    return sorted(set(rows) | {t for t in PARQUET_EXTRA if t in present})


def _state_text(state: tuple) -> str:
    return json.dumps([str(v) if v is not None else None for v in state])


def parquet_state(db: Path) -> str | None:
    """The ledger state the published Parquet set holds (None when there is none)."""
    manifest = parquet_path(db) / MANIFEST
    try:
        return json.loads(manifest.read_text(encoding="utf-8"))["ledger_state"]
    except (OSError, ValueError, KeyError):
        return None


def publish_parquet(db: Path) -> Path | None:
    """Write the Parquet set of the published snapshot unless it already holds the snapshot's ledger;
    returns the folder when a new set was swapped in."""
    source = snapshot_path(db)
    state = state_of(source)
    if state is None:
        return None
    text = _state_text(state)
    link = parquet_path(db)
    if parquet_state(db) == text and link.is_symlink():
        return None
    folder = link.parent
    name = f".parquet-{hashlib.sha256(text.encode()).hexdigest()[:16]}"
    temporary = folder / f"{name}.tmp"
    shutil.rmtree(temporary, ignore_errors=True)
    temporary.mkdir(parents=True)
    tables: dict[str, int] = {}
    views = ["-- Run in this folder (duckdb -init views.sql, or .read views.sql): the schemas and views of",
             "-- the snapshot over its Parquet files, so the SQL of docs/auditing.md runs as written."]
    with duckdb.connect(str(source), read_only=True) as con:
        for schema, table in _parquet_tables(con):  # names from DuckDB's own catalog
            file = f"{schema}.{table}.parquet"
            relation = f'"{schema}"."{table}"'
            con.execute(f"copy (select * from {relation}) to ? (format parquet, compression zstd)",  # noqa: S608
                        [str(temporary / file)])
            tables[f"{schema}.{table}"] = con.execute(f"select count(*) from {relation}").fetchone()[0]  # noqa: S608
            if f"create schema if not exists {schema};" not in views:
                views.append(f"create schema if not exists {schema};")
            views.append(f"create or replace view {schema}.{table} as "  # noqa: S608 (a script, not a query)
                         f"select * from read_parquet('{file}');")
    (temporary / "views.sql").write_text("\n".join(views) + "\n", encoding="utf-8")
    (temporary / MANIFEST).write_text(json.dumps({"ledger_state": text, "tables": tables}, ensure_ascii=False,
                                                 indent=1, sort_keys=True) + "\n", encoding="utf-8")
    for path in temporary.iterdir():
        os.chmod(path, READ_ONLY)
        _fsync(path)
    target = folder / name
    shutil.rmtree(target, ignore_errors=True)
    os.replace(temporary, target)
    pointer = folder / f".{PARQUET_LINK}.link.tmp"
    pointer.unlink(missing_ok=True)
    os.symlink(name, pointer)
    if link.exists() and not link.is_symlink():
        shutil.rmtree(link)  # a folder left by hand where the link goes
    os.replace(pointer, link)
    _fsync(folder)
    for old in folder.glob(".parquet-*"):
        if old.name != name:
            shutil.rmtree(old, ignore_errors=True)
    return target
