"""Incremental nights give exactly what a full refresh gives (issue 5/5, item 4).

The hand-computed policy cases (every clause of the catalog) arrive over three nights: their
events in two loads (each firm's events split between them, so old firms get new facts) and
dates that move on, so facts also come into force by the calendar alone. After each night,
built incrementally by `registry.pipeline.nightly.build_models`, a copy of the database is rebuilt with
`--full-refresh`, and every table of intermediate and marts must hold the same rows.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import FIRM_HEADER, new_db
from test_policy_cases import CASES, EVENT_FIELDS, _write

from registry.catalog.store import load_catalog
from registry.ingest.land import ingest_file
from registry.models import builds
from registry.models import dbt as dbt_runner
from registry.pipeline.nightly import build_models

pytestmark = pytest.mark.slow  # nights built with dbt

NIGHTS = (dt.date(2025, 6, 30), dt.date(2026, 12, 31), dt.date(2030, 12, 31))
# Tables that describe the build itself, not the facts.
BUILD_TABLES = {("intermediate", "int_changed_firms"), ("marts", "build_info")}


def _tables(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    names = con.execute("select table_schema, table_name from information_schema.tables "
                        "where table_type = 'BASE TABLE' and table_schema in ('intermediate', 'marts') "
                        "order by 1, 2").fetchall()
    return {f"{s}.{t}": con.execute(f'select * from "{s}"."{t}" order by all').fetchall()  # noqa: S608
            for s, t in names if (s, t) not in BUILD_TABLES}


def _full_refresh_copy(db: Path, as_of: dt.date, folder: Path) -> dict[str, list[tuple]]:
    folder.mkdir()
    copy = folder / "registry.duckdb"
    shutil.copyfile(db, copy)
    dbt_runner.run_dbt(["run", "--full-refresh"], copy, as_of)
    with duckdb.connect(str(copy), read_only=True) as con:
        return _tables(con)


def _diff(incremental: dict[str, list[tuple]], full: dict[str, list[tuple]]) -> list[str]:
    problems = []
    for table in sorted(set(incremental) | set(full)):
        mine, theirs = set(incremental.get(table, [])), set(full.get(table, []))
        if mine != theirs:
            problems.append(f"{table}: {len(mine - theirs)} rows only incremental, e.g. {sorted(mine - theirs)[:2]}; "
                            f"{len(theirs - mine)} rows only full refresh, e.g. {sorted(theirs - mine)[:2]}")
    return problems


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    """Three nights over the policy cases; per night the build mode, the firms recomputed, and
    the tables after the incremental build and after a full refresh of a copy."""
    folder = tmp_path_factory.mktemp("incremental")
    db = new_db(folder / "registry.duckdb")
    events = [e for case in CASES for e in case.events]
    firms = _write(folder / "firms.csv", FIRM_HEADER, [row for case in CASES for row in case.firm_rows])
    first = _write(folder / "events_1.csv", ["uscc", *EVENT_FIELDS], events[0::2])
    second = _write(folder / "events_2.csv", ["uscc", *EVENT_FIELDS], events[1::2])
    ingest_file("firms", firms, db)
    ingest_file("events", first, db)
    load_catalog(db)
    out = []
    for night, as_of in enumerate(NIGHTS):
        if night == 1:
            ingest_file("events", second, db)
        assert build_models(as_of, db)
        with duckdb.connect(str(db), read_only=True) as con:
            mode = con.execute("select mode from ledger.model_builds order by build_seq desc limit 1").fetchone()[0]
            recomputed, since = con.execute("select firms_recomputed, changed_since_date from marts.build_info"
                                            ).fetchone()
            known = con.execute("select count(*) from marts.dim_firms").fetchone()[0]
            tables = _tables(con)
        out.append({"as_of": as_of, "mode": mode, "recomputed": recomputed, "since": since, "known": known,
                    "tables": tables, "full": _full_refresh_copy(db, as_of, folder / f"full_{night}")})
    return out


def test_first_night_is_a_full_build(nights: list[dict]) -> None:
    assert nights[0]["mode"] == builds.FULL
    assert nights[0]["since"] is None


@pytest.mark.parametrize("night", [1, 2])
def test_later_nights_recompute_only_the_changed_firms(nights: list[dict], night: int) -> None:
    built = nights[night]
    assert built["mode"] == builds.INCREMENTAL
    assert built["since"] == NIGHTS[night - 1]
    assert 0 < built["recomputed"] < built["known"], "an incremental night must not recompute every firm"


@pytest.mark.parametrize("night", [0, 1, 2])
def test_incremental_equals_full_refresh(nights: list[dict], night: int) -> None:
    built = nights[night]
    assert built["tables"]["marts.fct_entitlements"], "the nights must produce entitlements to compare"
    assert _diff(built["tables"], built["full"]) == []


def test_the_nights_change_the_entitlements(nights: list[dict]) -> None:
    """The scenario is not trivial: each night adds entitlements the one before did not have."""
    counts = [len(n["tables"]["marts.fct_entitlements"]) for n in nights]
    assert counts == sorted(counts) and len(set(counts)) == len(counts), counts
