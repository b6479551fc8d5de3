"""The auditors' copy: a read-only snapshot of the whole database, published after each good night.

DuckDB lets one process write a file or many read it, never both, so auditors never open the
live file. After a night is in the ledger and its exports are written, the nightly run makes sure
every committed change is in the live file's main file (no write-ahead log left), and builds the
new snapshot as a byte-for-byte image of it in a temporary file beside the snapshot: by
difference, when it can, or whole. It checks the copy's ledger and every table's row count
against the live file, makes it read-only (0444), fsyncs it and renames it over the previous
snapshot. A rename is atomic: a reader sees the old snapshot or the new one, never a file being
written, and a reader that has the old one open keeps reading it (the old file lives on until
closed).

By difference: the previous snapshot stays beside the published one as a hidden spare (a hard
link made just before the swap). The next night takes the spare, and when nothing reads it (no
DuckDB reader's lock on it, no other name for it) rewrites only the 256 KiB blocks that differ
from the live file, found by the checksum DuckDB keeps at the start of every block: publishing
costs the blocks changed since the spare, not a read or a copy of the whole database. A spare
in use (an auditor's session opened before the last swap), a missing one or one a crash left
linked to the published file is never written: the live file is copied whole instead. The very first
snapshot is written twice (the second copy becomes the spare), so the second night already goes
by difference.

The snapshot keeps the live file's name (views name their catalog after it), in
$REGISTRY_SNAPSHOT_DIR or `snapshot/` beside the database. It is republished only when stale:
when its ledger (last list, chain heads, confirmations) differs from the live one.

Beside it, `parquet/` holds the same night as Parquet, for the clients that cannot open a file
of DuckDB 2.0 (the DuckDB 1.x CLI, pandas with pyarrow, Excel Power Query, Power BI): every table
of `ledger`, every view of `audit` (materialised), `raw.events` / `raw.loads` / `raw.quarantine`
(the source rows with their lineage) and `reference.cities`, one file `<schema>.<table>.parquet`
each, except the relations that grow with every load (PARQUET_BY_LOAD): a folder of one file per
load, linked from the night before's set when unchanged. Raw rows are append-only (a load lands in
one transaction and is never edited), so a load's part is named without reading its rows: by the
load, its row count, the values of the columns that can change after landing (PARQUET_BY_LOAD) and
a digest of the relation's definition (its columns and the SQL of the views it may read);
plus `views.sql` (creates the schemas and views over the files, so the SQL of
docs/auditing.md runs as written) and `manifest.json` (the ledger state, tables and row counts).
They are written from the published snapshot into a new folder `.parquet-<state>` and swapped
in by renaming a symbolic link `parquet` -> that folder over the old one: a reader sees the old
set or the new one, never a mix. Stale (another ledger state) or missing, the set is written
again on the next run; older folders are removed after the swap.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import time
from pathlib import Path

import duckdb

from registry.core import crashpoints, settings
from registry.core.errors import RegistryError

SNAPSHOT_ENV = settings.SNAPSHOT_ENV


class SnapshotError(RegistryError):
    """The auditors' snapshot could not be published; the live ledger is unchanged."""

READ_ONLY = 0o444
SPARE_SUFFIX = ".spare"  # the snapshot before the published one: tomorrow's starting point
BLOCK = 256 * 1024  # DuckDB's block size
HEADERS = 3 * 4096  # the file's main header and its two database headers, before the first block
CHECKSUM = 8  # bytes at the start of each block: the checksum of its content
PATCH_CHUNK = 32 * BLOCK  # compared at once (files of another layout); blocks of a differing chunk one by one
log = logging.getLogger("registry")

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


def _contents(path: Path) -> tuple[tuple, dict[str, int]]:
    """The ledger state of the database file `path` and the row count of each of its tables."""
    with duckdb.connect(str(path), read_only=True) as con:
        state = _state(con, con.execute("select current_database()").fetchone()[0])
        tables = con.execute("select schema_name, table_name from duckdb_tables() order by 1, 2").fetchall()
        return state, {f"{s}.{t}": con.execute(f'select count(*) from "{s}"."{t}"').fetchone()[0]  # noqa: S608
                       for s, t in tables}


def _checkpointed(db: Path) -> tuple[tuple, dict[str, int]]:
    """The live file's contents (`_contents`), with every committed change of `db` in its main file
    (no WAL left), so that the file's bytes are the database. Opened read-only when there is no WAL
    (readers may have it open); a WAL is folded in by a checkpoint on a short read-write connection
    (the caller is the only writer)."""
    wal = db.with_name(db.name + ".wal")
    if wal.exists() and wal.stat().st_size > 0:
        with duckdb.connect(str(db)) as con:
            con.execute("force checkpoint")
    contents = _contents(db)
    if wal.exists() and wal.stat().st_size > 0:
        raise SnapshotError(f"{db.name} still has a write-ahead log after a checkpoint; not published",
                            hint="another process is writing the database: rerun the night when it is done")
    return contents


def _seal(path: Path) -> None:
    """Read-only (0444) and on disk."""
    os.chmod(path, READ_ONLY)
    _fsync(path)


def _unshared(path: Path) -> bool:
    """Whether `path` may be rewritten in place: one name only (not the published snapshot under
    another name) and no process reading it (DuckDB readers hold a shared lock on the file; an
    exclusive probe fails while one does). The probe lock is released at once: nobody opens the
    spare by its name, and a reader of the published file never sees it."""
    if path.stat().st_nlink != 1:
        return False
    os.chmod(path, 0o644)
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.lockf(fd, fcntl.LOCK_UN)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def patch_file(source: Path, copy: Path) -> tuple[int, int]:
    """Make `copy` byte-identical to `source` by writing only the blocks that differ (DuckDB
    writes in 256 KiB blocks; an incremental night rewrites a part of them); returns (blocks
    written, blocks in the file).

    A DuckDB file is three 4 KiB headers and then whole blocks, each starting with the 8-byte
    checksum of its content, which DuckDB writes with every block. So the headers are compared
    whole, each block by its checksum only (two 8-byte reads, not two 256 KiB ones: the cost of
    a night's publish is the blocks it changed, not the size of the database), and a block whose
    checksum differs is copied whole. A file of another shape is compared byte by byte."""
    size = source.stat().st_size
    by_checksum = size >= HEADERS and (size - HEADERS) % BLOCK == 0
    src, dst = os.open(source, os.O_RDONLY), os.open(copy, os.O_RDWR)
    try:
        counts = _patch_by_checksum(src, dst, size) if by_checksum else _patch_by_bytes(src, dst, size)
        os.ftruncate(dst, size)
        os.fsync(dst)
    finally:
        os.close(src)
        os.close(dst)
    return counts


def _patch_by_checksum(src: int, dst: int, size: int) -> tuple[int, int]:
    head = os.pread(src, HEADERS, 0)
    if os.pread(dst, HEADERS, 0) != head:
        os.pwrite(dst, head, 0)
    written = 0
    for offset in range(HEADERS, size, BLOCK):
        if os.pread(src, CHECKSUM, offset) != os.pread(dst, CHECKSUM, offset):
            os.pwrite(dst, os.pread(src, BLOCK, offset), offset)
            written += 1
    return written, (size - HEADERS) // BLOCK


def _patch_by_bytes(src: int, dst: int, size: int) -> tuple[int, int]:
    written = total = 0
    for offset in range(0, size, PATCH_CHUNK):
        want = os.pread(src, PATCH_CHUNK, offset)
        have = os.pread(dst, PATCH_CHUNK, offset)
        if want == have:
            total += -(-len(want) // BLOCK)
            continue
        for at in range(0, len(want), BLOCK):
            total += 1
            block = want[at:at + BLOCK]
            if block != have[at:at + BLOCK]:
                os.pwrite(dst, block, offset + at)
                written += 1
    return written, total


def publish(db: Path) -> Path | None:
    """Publish the snapshot of `db` unless the current one already holds its ledger; returns the
    path when a new snapshot was swapped in. The caller must be the only writer of `db`.

    By difference: the spare (the snapshot before the published one, kept under a hidden name) is
    patched block by block to the live file's bytes when nothing reads it, then checked and swapped
    in; else (the first night, a reader still on it, a crash left it linked) the live file is
    copied whole. Either way the published file is replaced by a rename, never written in place."""
    target = snapshot_path(db)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp")
    spare = target.with_name(f".{target.name}{SPARE_SUFFIX}")
    _discard(temporary)
    live = _checkpointed(db)
    if state_of(target) == live[0]:
        return None
    started = time.perf_counter()
    how = "copied whole"
    if spare.exists():
        os.replace(spare, temporary)
        if _unshared(temporary):
            written, total = patch_file(db, temporary)
            how = f"by difference: {written} of {total} blocks written"
        else:
            _discard(temporary)
    if not temporary.exists():
        shutil.copyfile(db, temporary)
    try:
        copied = _contents(temporary)
    except duckdb.Error as error:  # a copy DuckDB cannot open is not published
        copied = ((str(error),), {})
    if copied != live:
        _discard(temporary)
        raise SnapshotError(f"the snapshot copy of {db.name} does not hold the live ledger; not published",
                            hint="rerun the night: the snapshot is copied again from the live ledger")
    _seal(temporary)
    crashpoints.reach("snapshot_copied")
    first = not target.exists()
    if not first:  # the published file becomes the next night's spare (readers keep it open)
        spare.unlink(missing_ok=True)
        os.link(target, spare)
    os.replace(temporary, target)
    _fsync(target.parent)
    if first:  # no snapshot before this one: a second copy, so that the next night goes by difference
        shutil.copyfile(target, temporary)
        _seal(temporary)
        os.replace(temporary, spare)
        _fsync(target.parent)
    log.info("auditors' snapshot %s published (%s) in %.2f s", target, how, time.perf_counter() - started)
    crashpoints.reach("snapshot_published")
    return target


PARQUET_LINK = "parquet"
PARQUET_EXTRA = (("raw", "events"), ("raw", "loads"), ("raw", "quarantine"), ("reference", "cities"))
MANIFEST = "manifest.json"
# Written as a folder of one file per load (`raw.events/<load>.<key>.parquet`): a night writes the
# files of its new loads and links the others from the night before's set. Per relation, the columns
# whose values can change after a load landed (all else is a function of its append-only raw rows):
# audit.event_knowledge dates a load by the first finished build that took it in.
PARQUET_BY_LOAD: dict[tuple[str, str], tuple[str, ...]] = {
    ("raw", "events"): (),
    ("raw", "quarantine"): (),
    ("audit", "event_knowledge"): ("first_built_for",),
}


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
    previous = link.resolve() if link.is_symlink() and link.exists() else None
    reused = written = 0
    with duckdb.connect(str(source), read_only=True) as con:
        for schema, table in _parquet_tables(con):  # names from DuckDB's own catalog
            relation = f'"{schema}"."{table}"'
            if (schema, table) in PARQUET_BY_LOAD:
                file = f"{schema}.{table}/*.parquet"
                done = _write_by_load(con, relation, temporary / f"{schema}.{table}",
                                      previous / f"{schema}.{table}" if previous else None,
                                      PARQUET_BY_LOAD[(schema, table)], _definition(con, schema, table))
                reused, written = reused + done[0], written + done[1]
            else:
                file = f"{schema}.{table}.parquet"
                con.execute(f"copy (select * from {relation}) to ? (format parquet, compression zstd)",  # noqa: S608
                            [str(temporary / file)])
                written += 1
            # counted from the files as written (their metadata): a view is not evaluated twice
            tables[f"{schema}.{table}"] = con.execute("select count(*) from read_parquet(?)",
                                                      [str(temporary / file)]).fetchone()[0]
            if f"create schema if not exists {schema};" not in views:
                views.append(f"create schema if not exists {schema};")
            views.append(f"create or replace view {schema}.{table} as "  # noqa: S608 (a script, not a query)
                         f"select * from read_parquet('{file}');")
    (temporary / "views.sql").write_text("\n".join(views) + "\n", encoding="utf-8")
    (temporary / MANIFEST).write_text(json.dumps({"ledger_state": text, "tables": tables}, ensure_ascii=False,
                                                 indent=1, sort_keys=True) + "\n", encoding="utf-8")
    for path in sorted(temporary.rglob("*")):
        if path.is_file():
            _seal(path)
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
    log.info("auditors' Parquet set %s published: %d files written, %d kept from the night before", target,
             written, reused)
    return target


def _definition(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> str:
    """A digest of what a relation's rows are computed by: its columns and types, and the SQL of
    every view of the database (a view may read others): a changed model renames every part."""
    columns = con.execute("select column_name, data_type from duckdb_columns() where schema_name = ? "
                          "and table_name = ? order by column_index", [schema, table]).fetchall()
    views = con.execute("select schema_name, view_name, sql from duckdb_views() where not internal "
                        "order by 1, 2").fetchall()
    return hashlib.sha256(repr((columns, views)).encode()).hexdigest()


def _write_by_load(con: duckdb.DuckDBPyConnection, relation: str, folder: Path, previous: Path | None,
                   varying: tuple[str, ...], definition: str) -> tuple[int, int]:
    """The rows of `relation`, one Parquet file per load, named by the load and a key of its part:
    the row count, the values of the `varying` columns and the relation's `definition`, read
    without the other columns (raw rows never change once landed). A file of the night before with
    the same name holds the same rows and is hard-linked instead of written again. A relation
    without rows gets one empty file (its columns). Returns (kept, written)."""
    folder.mkdir()
    spread = "".join(f", sum(hash({c}))" for c in varying)  # only these columns are read
    parts = con.execute(f"select load_id, count(*){spread} from {relation} "  # noqa: S608 (names from code)
                        "group by load_id order by load_id").fetchall()
    kept = written = 0
    for load_id, *key in parts:
        digest = hashlib.sha256(repr((definition, [str(v) for v in key])).encode()).hexdigest()[:32]
        name = f"{re.sub(r'[^A-Za-z0-9_-]', '-', str(load_id))}.{digest}.parquet"
        old = previous / name if previous is not None else None
        if old is not None and old.is_file():
            os.link(old, folder / name)
            kept += 1
            continue
        con.execute(f"copy (select * from {relation} where load_id is not distinct from ?) to ? "  # noqa: S608
                    "(format parquet, compression zstd)", [load_id, str(folder / name)])
        written += 1
    if not parts:
        con.execute(f"copy (select * from {relation} limit 0) to ? (format parquet)",  # noqa: S608
                    [str(folder / "empty.parquet")])
        written += 1
    return kept, written
