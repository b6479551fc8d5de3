"""The same night on Apache Spark gives exactly what it gives on DuckDB (docs/scaling.md).

The hand-computed policy cases (every clause of the catalog) arrive over two nights, as in
tests/test_incremental.py: each firm's events split between two loads, the second landed before
the second night, the dates moving from 2026-12-31 to 2030-12-31. Two databases hold the very same
landed rows (the second's raw rows are copied from the first, lineage included); one runs its
nights on DuckDB, the other with the engine `spark` (dbt-spark, session method, local[2]), the
second night incrementally (the first runs every data test on Spark too, the second only the
models). After each night every table of intermediate and marts, the ledger's
lines and the published list files must be identical, row for row and byte for byte.

One SparkSession serves the lane (started once, in this process); its warehouse and metastore are
under a temporary folder. Spark needs Java: when there is none, the lane installs Debian's
openjdk-17-jre-headless, and fails (never skips) saying how to install it when that fails too.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
import yaml
from conftest import FIRM_HEADER, new_db
from test_policy_cases import CASES, EVENT_FIELDS, _write

from registry.catalog.store import load_catalog
from registry.core import settings
from registry.ingest.land import ingest_file
from registry.models import spark
from registry.pipeline.nightly import build_models, publish_list
from registry.pipeline.setup import prepare
from registry.store import lake

pytestmark = [pytest.mark.e2e, pytest.mark.longest]  # the same nights on Apache Spark (a JVM, local[2])

NIGHTS = (dt.date(2026, 12, 31), dt.date(2030, 12, 31))
BUDGET_GROUP = "fz-2026-5.a4.software"
LEDGER_COLUMNS = ("list_date, seq, line_id, entitlement_id, uscc, clause_id, kind, amount, payable_amount, "
                  "entitled_amount, status, reason_code, original_line_id, trigger_event_id, award_year")


def _java_or_install() -> None:
    """Spark's Java: present, or installed from Debian's packages, or a failure that says how."""
    try:
        spark.java()
        return
    except spark.SparkUnavailable as missing:
        problem = missing
    if shutil.which("apt-get"):
        subprocess.run(["apt-get", "update", "-q"], capture_output=True, check=False)
        subprocess.run(["apt-get", "install", "-y", "-q", "openjdk-17-jre-headless"], capture_output=True,
                       check=False)
    try:
        spark.java()
    except spark.SparkUnavailable:
        pytest.fail(f"{problem}; installing openjdk-17-jre-headless failed too. {problem.hint}")


def _tables(db: Path) -> dict[str, set[tuple]]:
    with duckdb.connect(str(db), read_only=True) as con:
        names = con.execute("select table_schema, table_name from information_schema.tables "
                            "where table_type = 'BASE TABLE' and table_schema in ('intermediate', 'marts') "
                            "order by 1, 2").fetchall()
        return {f"{s}.{t}": set(con.execute(f'select * from "{s}"."{t}"').fetchall())  # noqa: S608
                for s, t in names}


def _ledger(db: Path) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(f"select {LEDGER_COLUMNS} from ledger.lines order by list_date, seq").fetchall()  # noqa: S608


def _copy_load(source: Path, target: Path, load_id: str) -> None:
    """Give `target` the rows `source` landed for `load_id` (the same facts, the same lineage)."""
    with duckdb.connect(str(target)) as con:
        con.execute(f"attach '{source}' as src (read_only)")
        for table in ("events", "firms", "quarantine", "loads"):
            con.execute(f"insert into raw.{table} select * from src.raw.{table} where load_id = ?", [load_id])  # noqa: S608
        con.execute("detach src")


def _load_ids(db: Path) -> set[str]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {load_id for (load_id,) in con.execute("select load_id from raw.loads").fetchall()}


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[dict]]:
    """Per night: both databases' tables, ledgers and list files, the Spark build's mode and timings."""
    _java_or_install()
    folder = tmp_path_factory.mktemp("spark_lane")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(settings.SPARK_DIR_ENV, str(folder / "spark"))
        patch.setenv(settings.TODAY_ENV, NIGHTS[-1].isoformat())
        # the catalog with a short yearly budget for the software awards (附件4 五, 不足时按比例兑现), so
        # the pro-rata floor (dispatched per engine, macros/prorata.sql) is computed on both engines
        policies = folder / "policies"
        shutil.copytree(settings.POLICY_DIR, policies)
        (policies / "budgets.yml").write_text(yaml.safe_dump(
            {"budgets": [{"group": BUDGET_GROUP, "years": dict.fromkeys(range(2015, 2032), 300_001)}]}),
            encoding="utf-8")
        duck = new_db(folder / "duckdb" / "registry.duckdb")
        events = [e for case in CASES for e in case.events]
        firms = _write(folder / "firms.csv", FIRM_HEADER, [row for case in CASES for row in case.firm_rows])
        first = _write(folder / "events_1.csv", ["uscc", *EVENT_FIELDS], events[0::2])
        second = _write(folder / "events_2.csv", ["uscc", *EVENT_FIELDS], events[1::2])
        ingest_file("firms", firms, duck)
        ingest_file("events", first, duck)
        load_catalog(duck, policies)
        (folder / "spark_db").mkdir()
        on_spark = folder / "spark_db" / "registry.duckdb"
        shutil.copyfile(duck, on_spark)
        started = time.monotonic()
        spark.session(settings.spark_dir(on_spark))
        start_up = time.monotonic() - started
        out = []
        for night, as_of in enumerate(NIGHTS):
            if night == 1:
                before = _load_ids(duck)
                ingest_file("events", second, duck)
                for load_id in sorted(_load_ids(duck) - before):
                    _copy_load(duck, on_spark, load_id)
            listed = {}
            for name, db, engine in (("duckdb", duck, "duckdb"), ("spark", on_spark, "spark")):
                started = time.monotonic()
                # the night's steps (run_nightly's), with the lane's catalog; the second night on Spark
                # without the data tests: the first ran all of them on Spark, this one is about the
                # incremental models (and takes half the time without them)
                prepare(db)
                load_catalog(db, policies)
                build_models(as_of, db, data_tests=not (engine == "spark" and night > 0), engine=engine)
                published = publish_list(as_of, db)
                listed[name] = {"json": published.to_json_obj(), "seconds": time.monotonic() - started,
                                "files": {p.name: p.read_bytes() for p in sorted(published.csv_path.parent.glob(
                                    f"*{as_of.isoformat()}.csv"))}}
            with duckdb.connect(str(on_spark), read_only=True) as con:
                mode = con.execute("select mode from ledger.model_builds order by build_seq desc limit 1").fetchone()[0]
                recomputed = con.execute("select firms_recomputed from marts.build_info").fetchone()[0]
                known = con.execute("select count(*) from marts.dim_firms").fetchone()[0]
            out.append({"as_of": as_of, "duckdb": _tables(duck), "spark": _tables(on_spark), "listed": listed,
                        "spark_db": on_spark,
                        "ledger": (_ledger(duck), _ledger(on_spark)), "mode": mode, "recomputed": recomputed,
                        "known": known, "timings": spark.LAST.summary(), "start_up": start_up})
        yield out


@pytest.mark.parametrize("night", range(len(NIGHTS)), ids=[d.isoformat() for d in NIGHTS])
def test_spark_builds_the_same_tables_as_duckdb(nights: list[dict], night: int) -> None:
    result = nights[night]
    duck, on_spark = result["duckdb"], result["spark"]
    assert set(duck) == set(on_spark), f"tables only on one engine: {sorted(set(duck) ^ set(on_spark))}"
    assert duck["marts.fct_entitlements"], "the policy cases entitle someone"
    with duckdb.connect(str(result["spark_db"]), read_only=True) as con:
        cut = con.execute("select count(*) from marts.fct_entitlements where status = 'payable' "
                          "and payable_amount < entitled_amount").fetchone()[0]
    assert cut > 0, "the short budget cuts some awards pro rata on Spark"
    problems = [f"{table}: {len(duck[table] - on_spark[table])} rows only on DuckDB, e.g. "
                f"{sorted(duck[table] - on_spark[table])[:2]}; {len(on_spark[table] - duck[table])} only on Spark, "
                f"e.g. {sorted(on_spark[table] - duck[table])[:2]}"
                for table in sorted(duck) if duck[table] != on_spark[table]]
    assert not problems, f"night {result['as_of']} differs between engines:\n" + "\n".join(problems)


@pytest.mark.parametrize("night", range(len(NIGHTS)), ids=[d.isoformat() for d in NIGHTS])
def test_spark_publishes_the_same_list(nights: list[dict], night: int) -> None:
    listed = nights[night]["listed"]
    assert listed["duckdb"]["json"]["lines"], "the night lists something"
    assert listed["spark"]["json"] == listed["duckdb"]["json"]
    assert listed["spark"]["files"] == listed["duckdb"]["files"], "the list and change report files differ"
    duck_ledger, spark_ledger = nights[night]["ledger"]
    assert spark_ledger == duck_ledger


def test_the_second_night_on_spark_is_incremental(nights: list[dict]) -> None:
    first, second = nights
    assert first["mode"] == "full"
    assert second["mode"] == "incremental"
    assert 0 < second["recomputed"] < second["known"], "an incremental night recomputes only the changed firms"
    print(f"\nSpark lane: start-up {first['start_up']:.1f}s; " + "; ".join(
        f"{n['as_of']}: DuckDB night {n['listed']['duckdb']['seconds']:.1f}s, Spark night "
        f"{n['listed']['spark']['seconds']:.1f}s ({n['timings']})" for n in nights))


def test_without_java_the_spark_engine_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch,
                                                               tmp_path: Path) -> None:
    monkeypatch.setenv(settings.JAVA_HOME_ENV, str(tmp_path / "no-jdk"))
    with pytest.raises(spark.SparkUnavailable) as raised:
        spark.java()
    assert "apt-get install -y openjdk-17-jre-headless" in raised.value.hint


def test_an_unknown_engine_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(settings.ENGINE_ENV, "bigquery")
    with pytest.raises(settings.ConfigError):
        settings.engine()
    assert settings.engine("Spark") == "spark"


def test_the_lake_holds_the_database_rows_and_follows_it(tmp_path: Path) -> None:
    """One file per load, written once; a load whose rows are gone leaves the lake too."""
    db = new_db(tmp_path / "registry.duckdb")
    ingest_file("events", settings.sample("events", "events.csv"), db)
    ingest_file("events", settings.sample("events", "events_bad.csv"), db)
    folder = tmp_path / "lake"
    with duckdb.connect(str(db)) as con:
        first = lake.sync(con, folder)
        again = lake.sync(con, folder)
        landed = con.execute("select count(*) from raw.events").fetchone()[0]
        files = f"{folder}/raw/events/*.parquet"
        in_lake = con.execute("select count(*) from read_parquet(?)", [files]).fetchone()[0]
        assert in_lake == landed > 0
        assert "raw.firms/load-none.parquet" in first.written, "an empty table keeps a file with its columns"
        assert again.written == () and again.removed == ()
        gone = con.execute("select load_id from raw.loads where file_name = 'events_bad.csv'").fetchone()[0]
        con.execute("delete from raw.events where load_id = ?", [gone])
        after = lake.sync(con, folder)
        assert len(after.removed) == 1 and after.written == ()
        left = con.execute("select count(*) from read_parquet(?)", [files]).fetchone()[0]
        assert left == con.execute("select count(*) from raw.events").fetchone()[0]


def test_with_the_spark_engine_an_ingest_writes_its_load_to_the_lake(monkeypatch: pytest.MonkeyPatch,
                                                                      tmp_path: Path) -> None:
    db = new_db(tmp_path / "registry.duckdb")
    ingest_file("firms", settings.sample("firms", "firms.csv"), db)
    assert not settings.lake_dir(db).exists(), "on DuckDB nothing is written"
    monkeypatch.setenv(settings.ENGINE_ENV, "spark")
    ingest_file("events", settings.sample("events", "events.csv"), db)
    for table in ("events", "firms"):
        assert list((settings.lake_dir(db) / "raw" / table).glob("load-*.parquet")), table
