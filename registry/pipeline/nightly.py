"""The nightly run: load the catalog, build the models for the list date, publish the list.

Steps, each idempotent, so a run killed anywhere and run again ends where an uninterrupted
run ends (tests/test_crash_safety.py kills it at every step):

1. load_catalog            rewrite policy tables from policies/*.yml (same files, same rows);
2. build_models            `dbt build` in a child process, skipped when the last finished build
                           was for this date from the very same inputs (registry.models.builds);
                           with the engine `spark`, the same project on Spark, read back into
                           the database (registry.models.spark);
3. ledger (publish_list)   check the whole ledger (and against the last snapshot), append the
                           night in one transaction, checked again before commit; a night
                           already in the ledger is read back, never recomputed into new lines;
4. exports                 CSV, XLSX, Parquet, change report: pure functions of the ledger,
                           written atomically, read back and compared with the ledger;
5. snapshot                the auditors' read-only copy, swapped in atomically when stale.

Each step opens the database, works and closes it, so the steps can run as separate Airflow
tasks and never hold DuckDB's single-writer lock between them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from registry.catalog import read as catalog_model
from registry.catalog.store import load_catalog
from registry.core import crashpoints, settings
from registry.ledger import append as ledger
from registry.ledger import invariants, snapshot
from registry.models import builds
from registry.models import dbt as dbt_runner
from registry.models import spark as spark_runner
from registry.pipeline import setup
from registry.publish import exports
from registry.store import db as registry_db
from registry.store import lake


@dataclass(frozen=True)
class PublishedList:
    list_date: dt.date
    lines: tuple[ledger.Line, ...]
    csv_path: Path
    changes: tuple = ()
    snapshot_path: Path | None = None

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), ledger.ZERO)

    def to_json_obj(self) -> dict[str, Any]:
        """The object design.md fixes for `registry nightly --json`."""
        return {"date": self.list_date.isoformat(), "lines": [line.to_json_obj() for line in self.lines],
                "total": f"{self.total:.2f}"}

    def summary(self) -> str:
        awards = [line for line in self.lines if line.kind == "award"]
        reversals = [line for line in self.lines if line.kind == "reversal"]
        firms = len({line.uscc for line in self.lines})
        out = (f"list {self.list_date}: {len(self.lines)} lines ({len(awards)} awards, {len(reversals)} "
               f"reversals) for {firms} firms, total {self.total:.2f} yuan\n  written to {self.csv_path} "
               "(+ .xlsx, .parquet, 清单变动报告)")
        if self.snapshot_path:
            out += f"\n  auditors' snapshot: {self.snapshot_path}"
        return out


def is_published(as_of: dt.date, db: Path) -> bool:
    if not db.exists():
        return False
    with registry_db.connect(db, read_only=True) as con:
        has_ledger = con.execute("select count(*) from information_schema.tables where table_schema = 'ledger' "
                                 "and table_name = 'lists'").fetchone()[0]
        return bool(has_ledger) and as_of in ledger.published_dates(con)


def load_rules(db: Path, engine: str | None = None) -> catalog_model.Catalog:
    """Step 1: bring the database's own tables up to this version, then load the policy catalog
    (and, for the spark engine, write it to the lake the Spark build reads)."""
    setup.prepare(db)
    catalog = load_catalog(db)
    if settings.engine(engine) == settings.SPARK:
        with registry_db.connect(db) as con:
            lake.sync(con, settings.lake_dir(db))
    return catalog


def build_models(as_of: dt.date, db: Path, data_tests: bool = True, engine: str | None = None) -> bool:
    """Run `dbt build` (models and data tests) for the list date, unless the models already
    stand for this date and these inputs; returns whether dbt ran. The build is incremental
    (only the firms whose facts changed since the last build) when registry.models.builds allows it,
    else a full refresh. `engine` (default $REGISTRY_ENGINE, else duckdb): `spark` builds the same
    models on Spark and reads them back into the database (registry.models.spark)."""
    engine = settings.engine(engine)
    with registry_db.connect(db) as con:
        plan = builds.plan(con, as_of, engine)
        if plan.up_to_date:
            return False
        builds.record(con, plan, "started")
    if engine == settings.SPARK:
        spark_runner.build(db, as_of, changed_since=plan.since, full_refresh=plan.mode == builds.FULL,
                           data_tests=data_tests)
    else:
        dbt_runner.build(db, as_of, changed_since=plan.since, full_refresh=plan.mode == builds.FULL,
                         data_tests=data_tests)
    crashpoints.reach("dbt_finished")
    with registry_db.connect(db) as con:
        builds.record(con, plan, "finished")
    return True


def publish_list(as_of: dt.date, db: Path) -> PublishedList:
    """Append the night to the ledger (once), write its exports, publish the auditors' snapshot."""
    output = settings.output_dir(db)
    csv_path = exports.list_csv_path(output, as_of)
    with registry_db.connect(db) as con:
        invariants.require(con, snapshot.snapshot_path(db))
        lines = ledger.append_night(con, as_of, csv_path.name, fingerprint=builds.built_from(con, as_of) or "",
                                    notice_days=settings.notice_days())
        crashpoints.reach("ledger_committed")
        night = exports.read_night(con, as_of)
    exports.write_list_csv(output, night)
    crashpoints.reach("list_csv_written")
    exports.write_other_exports(output, night)
    exports.verify_exports(output, night)
    crashpoints.reach("exports_written")
    snapshot.publish(db)
    return PublishedList(as_of, tuple(lines), csv_path, night.changes, snapshot.snapshot_path(db))


def run_nightly(as_of: dt.date, db: Path, engine: str | None = None) -> PublishedList:
    """The whole night; a night already published is returned unchanged, without rebuilding.
    `engine`: where the models are built (duckdb or spark); everything else is the same."""
    if not is_published(as_of, db):
        load_rules(db, engine)
        crashpoints.reach("catalog_loaded")
        build_models(as_of, db, engine=engine)
        crashpoints.reach("models_built")
    return publish_list(as_of, db)
