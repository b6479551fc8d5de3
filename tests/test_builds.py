"""When a night builds incrementally, when it refreshes everything, when it does nothing
(registry.models.builds.plan); tests/test_incremental.py checks that both give the same rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from conftest import new_db

from registry.models import builds
from registry.store import db as registry_db

NIGHT = dt.date(2026, 11, 1)


def _land(con: duckdb.DuckDBPyConnection, load_id: str, rows: int) -> None:
    start = con.execute("select count(*) from raw.events").fetchone()[0]
    for n in range(start, start + rows):
        con.execute("insert into raw.events (event_key, uscc, event_type, action, effective_date, source, file_sha256, "
                    "row_number, ingested_at, load_id) values (?, '91350100MA2XXXXX0X', 'hitech', 'granted', "
                    "'2026-01-01', 'events', 'sha', ?, now(), ?)", [f"k{n}", n, load_id])


def _build(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> builds.Plan:
    """What build_models does around dbt (dbt itself is not needed to test the plan)."""
    plan = builds.plan(con, as_of)
    if not plan.up_to_date:
        builds.record(con, plan, "started")
        builds.record(con, plan, "finished")
    return plan


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    with registry_db.connect(new_db(tmp_path / "registry.duckdb")) as connection:
        connection.execute("create schema if not exists marts; create table marts.build_info (as_of_date date)")
        _land(connection, "events:a", 3)
        yield connection


def test_the_first_build_is_full_and_takes_in_every_load(con: duckdb.DuckDBPyConnection) -> None:
    plan = _build(con, NIGHT)
    assert (plan.mode, plan.reason, plan.new_loads) == (builds.FULL, "no finished build before", {"events:a": 3})
    assert builds.built_loads(con) == {"events:a": 3}


def test_nothing_new_builds_nothing(con: duckdb.DuckDBPyConnection) -> None:
    _build(con, NIGHT)
    assert builds.plan(con, NIGHT).up_to_date


def test_a_new_load_or_a_later_date_is_incremental(con: duckdb.DuckDBPyConnection) -> None:
    _build(con, NIGHT)
    _land(con, "events:b", 2)
    plan = _build(con, NIGHT)
    assert (plan.mode, plan.since) == (builds.INCREMENTAL, {"as_of_date": "2026-11-01", "load_ids": ["events:b"]})
    later = _build(con, NIGHT + dt.timedelta(days=1))
    assert (later.mode, later.since) == (builds.INCREMENTAL, {"as_of_date": "2026-11-01", "load_ids": []})


def test_more_rows_in_a_load_already_built_count_as_new(con: duckdb.DuckDBPyConnection) -> None:
    _build(con, NIGHT)
    _land(con, "events:a", 1)
    assert builds.plan(con, NIGHT).since == {"as_of_date": "2026-11-01", "load_ids": ["events:a"]}


@pytest.mark.parametrize("change, reason", [
    ("earlier date", "is before the last build's"),
    ("catalog", "the dbt project, the catalog or the engine changed"),
    ("engine", "the dbt project, the catalog or the engine changed"),
    ("crash", "the last build did not finish"),
    ("rows gone", "rows of loads already built are gone: events:a"),
    ("models dropped", "the models are missing"),
])
def test_anything_else_is_a_full_refresh(con: duckdb.DuckDBPyConnection, change: str, reason: str) -> None:
    _build(con, NIGHT)
    as_of = NIGHT + dt.timedelta(days=1)
    if change == "earlier date":
        as_of = NIGHT - dt.timedelta(days=1)
    elif change == "catalog":
        con.execute("update reference.event_types set term = term || '（改）' where event_type = 'hitech'")
    elif change == "crash":
        builds.record(con, builds.plan(con, as_of), "started")
    elif change == "engine":  # tonight on Spark after a DuckDB night: Spark has no incremental state of ours
        plan = builds.plan(con, as_of, "spark")
        assert (plan.mode, plan.reason) == (builds.FULL, reason)
        return
    elif change == "rows gone":
        con.execute("delete from raw.events where event_key = 'k0'")
    else:
        con.execute("drop table marts.build_info")
    plan = builds.plan(con, as_of)
    assert plan.mode == builds.FULL and reason in plan.reason
    assert plan.new_loads == builds.loads(con), "a full refresh takes in every load"
