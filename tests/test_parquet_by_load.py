"""The auditors' Parquet set by load (registry.ledger.snapshot._write_by_load): a night links the
parts of the loads that did not change and writes the others, without reading the loads' rows.

A part is named by its load, row count, the values of the columns that may change after landing
and the relation's definition; each case here changes one of them and checks that exactly the
parts it touches are written again, and that the files always hold exactly the relation's rows.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from registry.ledger import snapshot

RELATION = "audit.knowledge"


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create schema raw; create schema audit")
    con.execute("create table raw.rows (load_id varchar, n integer, payload varchar)")
    con.execute("create table raw.built (load_id varchar, built_on date)")
    con.execute("insert into raw.rows select 'load-' || (i % 3), i, 'row ' || i from range(30) as t(i)")
    con.execute("insert into raw.built values ('load-0', date '2026-11-01')")
    con.execute("create view audit.knowledge as select r.*, b.built_on from raw.rows as r "
                "left join raw.built as b using (load_id)")
    return con


def _night(con: duckdb.DuckDBPyConnection, root: Path, name: str, previous: Path | None) -> tuple[Path, int, int]:
    folder = root / name
    kept, written = snapshot._write_by_load(con, RELATION, folder, previous, ("built_on",),
                                            snapshot._definition(con, "audit", "knowledge"))
    return folder, kept, written


def _inodes(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_ino for p in folder.iterdir()}


def _same_rows(con: duckdb.DuckDBPyConnection, folder: Path) -> None:
    got = con.execute("select * from read_parquet(?) order by n", [str(folder / "*.parquet")]).fetchall()
    assert got == con.execute(f"select * from {RELATION} order by n").fetchall()  # noqa: S608


def test_unchanged_loads_are_linked_and_changed_ones_written(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    first, kept, written = _night(con, tmp_path, "n1", None)
    assert (kept, written) == (0, 3)
    _same_rows(con, first)

    second, kept, written = _night(con, tmp_path, "n2", first)
    assert (kept, written) == (3, 0)
    assert _inodes(second) == _inodes(first), "nothing changed: every part is the night before's file"

    con.execute("insert into raw.rows values ('load-3', 100, 'a new load')")
    third, kept, written = _night(con, tmp_path, "n3", second)
    assert (kept, written) == (3, 1)
    _same_rows(con, third)

    con.execute("insert into raw.built values ('load-1', date '2026-11-02')")  # a build takes load-1 in
    fourth, kept, written = _night(con, tmp_path, "n4", third)
    assert (kept, written) == (3, 1), "only load-1's part changed (its varying column)"
    assert not (set(_inodes(fourth).values()) & {v for k, v in _inodes(third).items() if k.startswith("load-1.")})
    _same_rows(con, fourth)


def test_a_changed_definition_writes_every_part(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    first, _, _ = _night(con, tmp_path, "n1", None)
    con.execute("create or replace view audit.knowledge as select r.*, b.built_on + 1 as built_on from raw.rows "
                "as r left join raw.built as b using (load_id)")
    second, kept, written = _night(con, tmp_path, "n2", first)
    assert (kept, written) == (0, 3)
    _same_rows(con, second)


def test_an_empty_relation_keeps_its_columns(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    con.execute("delete from raw.rows")
    folder, kept, written = _night(con, tmp_path, "n1", None)
    assert (kept, written) == (0, 1)
    columns = con.execute("select column_name from (describe select * from read_parquet(?))",
                          [str(folder / "empty.parquet")]).fetchall()
    assert [c for (c,) in columns] == ["load_id", "n", "payload", "built_on"]
