"""The registry's inputs as Parquet files, for an engine other than DuckDB (docs/scaling.md).

The dbt project's `spark` target reads `raw.events`, `raw.firms`, `reference.*` and `policy.*`
from here (dbt_project/macros/lake_sources.sql registers each folder as an external table), so
the same models run on Spark over exactly the rows DuckDB holds. Layout, one folder per table:

    <lake>/raw/events/load-<load id>.parquet      one file per load (raw tables are append-only)
    <lake>/raw/firms/load-<load id>.parquet      (also raw.loads, raw.quarantine)
    <lake>/reference/<table>/part-0.parquet       small tables, rewritten whole
    <lake>/policy/<table>/part-0.parquet
    <lake>/<schema>/<table>/_manifest.json        what is there (engines skip files named _* or .*)

`sync` makes the lake equal to the database and is idempotent: a load already written with the
same row count is not written again, a load whose rows are gone is removed, the small tables are
rewritten only when their content changed. Each file is written under a hidden name and renamed
into place, so a reader never sees half a file. Plain Parquet, not Delta or Iceberg: both need
jars that Spark downloads from a Maven repository at start-up (`spark.jars.packages`), and this
registry's machines reach none; the tables here are rewritten or appended by one writer, which is
what Parquet folders can carry.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

PER_LOAD = ("raw.events", "raw.firms", "raw.loads", "raw.quarantine")
WHOLE_SCHEMAS = ("reference", "policy")
MANIFEST = "_manifest.json"
EMPTY = "load-none.parquet"


@dataclass(frozen=True)
class SyncReport:
    written: tuple[str, ...]
    removed: tuple[str, ...]

    def summary(self) -> str:
        return f"lake: {len(self.written)} files written, {len(self.removed)} removed"


def _read_manifest(folder: Path) -> dict[str, dict]:
    path = folder / MANIFEST
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _write_manifest(folder: Path, manifest: dict[str, dict]) -> None:
    hidden = folder / f".{MANIFEST}.tmp"
    hidden.write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(hidden, folder / MANIFEST)


def _columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> str:
    """The select list: every column, JSON as text (Parquet's JSON type is not read by every engine)."""
    rows = con.execute("select column_name, data_type from information_schema.columns "
                       "where table_schema = ? and table_name = ? order by ordinal_position",
                       [schema, table]).fetchall()
    return ", ".join(f'cast("{name}" as varchar) as "{name}"' if kind.upper() == "JSON" else f'"{name}"'
                     for name, kind in rows)


def _copy(con: duckdb.DuckDBPyConnection, query: str, params: list, target: Path) -> None:
    hidden = target.with_name(f".{target.name}.tmp")
    # the query is built from catalog names (information_schema), never from user input
    con.execute(f"copy ({query}) to '{hidden}' (format parquet, compression zstd)", params)
    os.replace(hidden, target)


def _file_for(load_id: str) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in load_id)
    return f"load-{safe}-{hashlib.sha256(load_id.encode()).hexdigest()[:8]}.parquet"


def _sync_per_load(con: duckdb.DuckDBPyConnection, lake: Path, qualified: str) -> tuple[list[str], list[str]]:
    schema, table = qualified.split(".")
    folder = lake / schema / table
    folder.mkdir(parents=True, exist_ok=True)
    manifest = _read_manifest(folder)
    loads = dict(con.execute(f"select load_id, count(*) from {qualified} group by load_id").fetchall())  # noqa: S608
    columns = _columns(con, schema, table)
    written, removed = [], []
    for load_id, rows in sorted(loads.items()):
        name = _file_for(load_id)
        if manifest.get(name) == {"load_id": load_id, "rows": rows} and (folder / name).exists():
            continue
        _copy(con, f"select {columns} from {qualified} where load_id = ? order by 1", [load_id], folder / name)  # noqa: S608
        manifest[name] = {"load_id": load_id, "rows": rows}
        written.append(f"{qualified}/{name}")
    wanted = {_file_for(load_id) for load_id in loads}
    if not loads:  # an engine infers a folder's columns from its files: keep one, with no rows
        wanted = {EMPTY}
        if manifest.get(EMPTY) != {"load_id": None, "rows": 0} or not (folder / EMPTY).exists():
            _copy(con, f"select {columns} from {qualified} limit 0", [], folder / EMPTY)  # noqa: S608
            manifest[EMPTY] = {"load_id": None, "rows": 0}
            written.append(f"{qualified}/{EMPTY}")
    for name in sorted(set(manifest) - wanted):
        (folder / name).unlink(missing_ok=True)
        del manifest[name]
        removed.append(f"{qualified}/{name}")
    for stray in folder.glob("*.parquet"):  # a file written before its manifest entry (a crash)
        if stray.name not in manifest:
            stray.unlink()
    _write_manifest(folder, manifest)
    return written, removed


def _sync_whole(con: duckdb.DuckDBPyConnection, lake: Path, schema: str, table: str) -> bool:
    folder = lake / schema / table
    folder.mkdir(parents=True, exist_ok=True)
    columns = _columns(con, schema, table)
    query = f'select {columns} from "{schema}"."{table}" order by all'  # noqa: S608
    rows_text = "string_agg(cast(t as varchar), chr(10) order by cast(t as varchar))"
    count, digest = con.execute(f"select count(*), md5(coalesce({rows_text}, '')) from ({query}) as t").fetchone()  # noqa: S608
    state = {"rows": count, "md5": digest, "columns": columns}
    if _read_manifest(folder).get("part-0.parquet") == state and (folder / "part-0.parquet").exists():
        return False
    _copy(con, query, [], folder / "part-0.parquet")
    _write_manifest(folder, {"part-0.parquet": state})
    return True


def sync(con: duckdb.DuckDBPyConnection, lake: Path) -> SyncReport:
    """Make the Parquet lake at `lake` hold exactly the rows of raw.events, raw.firms, reference.*
    and policy.* in the database `con` is open on."""
    written: list[str] = []
    removed: list[str] = []
    for qualified in PER_LOAD:
        more, gone = _sync_per_load(con, lake, qualified)
        written += more
        removed += gone
    tables = con.execute("select table_schema, table_name from information_schema.tables "
                         "where table_type = 'BASE TABLE' and table_schema in ('reference', 'policy') "
                         "order by 1, 2").fetchall()
    present = {(schema, table) for schema, table in tables}
    for schema, table in tables:
        if _sync_whole(con, lake, schema, table):
            written.append(f"{schema}.{table}")
    for schema in WHOLE_SCHEMAS:  # a table dropped from the database leaves the lake too
        for folder in sorted((lake / schema).glob("*")) if (lake / schema).is_dir() else []:
            if folder.is_dir() and (schema, folder.name) not in present:
                for path in folder.iterdir():
                    path.unlink()
                folder.rmdir()
                removed.append(f"{schema}.{folder.name}")
    return SyncReport(tuple(written), tuple(removed))


def tables(lake: Path) -> list[tuple[str, str, Path]]:
    """(schema, table, folder) of every table in the lake."""
    found = []
    for schema in ("raw", *WHOLE_SCHEMAS):
        root = lake / schema
        for folder in sorted(root.iterdir()) if root.is_dir() else []:
            if folder.is_dir() and (folder / MANIFEST).exists():
                found.append((schema, folder.name, folder))
    return found
