"""The nightly run: load the catalog, build the models for the list date, publish the list.

Steps, each idempotent, so a run killed anywhere and run again ends where an uninterrupted
run ends (tests/test_crash_safety.py kills it at every step):

0. check_list_date         refuse a list date that can never be published (before a night already
                           published), before anything is built: the answer cannot change on retry;
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
tasks and never hold DuckDB's single-writer lock between them. Each step holds the registry's run
lock (`registry.store.lock`) while it works, and `run_nightly` holds it over the whole night: a
second writer is refused at once, naming this one.

Before anything, `check_list_date` refuses a slip: a list date more than $REGISTRY_FUTURE_DAYS
after today (`settings.today()`: the Shanghai clock, or $REGISTRY_TODAY), or before the last night
published (a night already published is fine: it is returned unchanged). A 公示 period is
confirmed only once its days have passed by that clock, never because a later list date was given.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from registry.catalog import read as catalog_model
from registry.catalog.store import load_catalog
from registry.core import crashpoints, settings
from registry.core.errors import RegistryError
from registry.ledger import append as ledger
from registry.ledger import invariants, snapshot
from registry.models import builds
from registry.models import dbt as dbt_runner
from registry.models import spark as spark_runner
from registry.pipeline import setup
from registry.publish import exports
from registry.store import db as registry_db
from registry.store import lake
from registry.store.lock import writer_lock


class ListDateRefused(RegistryError):
    """The list date cannot be published: in the future beyond the margin, before the registry's first
    list, or before the last night (nights are appended in date order); not retryable."""


@dataclass(frozen=True)
class PublishedList:
    list_date: dt.date
    lines: tuple[ledger.Line, ...]
    csv_path: Path
    changes: tuple = ()
    snapshot_path: Path | None = None
    report_path: Path | None = None  # the night's page of charts (报告_D.html)
    index_path: Path | None = None  # the page of every night (index.html)

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
        if self.report_path:
            out += f"\n  nightly report: {self.report_path} (all nights: {self.index_path})"
        if self.snapshot_path:
            out += f"\n  auditors' snapshot: {self.snapshot_path} (+ parquet/ for any DuckDB, pandas, Power Query)"
        return out


Progress = Callable[[str], None]  # one line of a step's output (dbt's node lines), as it comes


def _has_ledger(con: Any) -> bool:
    return bool(con.execute("select count(*) from information_schema.tables where table_schema = 'ledger' "
                            "and table_name = 'lists'").fetchone()[0])


def is_published(as_of: dt.date, db: Path) -> bool:
    if not db.exists():
        return False
    with registry_db.connect(db, read_only=True) as con:
        return _has_ledger(con) and as_of in ledger.published_dates(con)


def check_list_date(as_of: dt.date, db: Path) -> None:
    """Refuse, before anything is built, a list date that is a slip: later than today plus
    $REGISTRY_FUTURE_DAYS (a typo such as 2062-11-15 would publish, then refuse every real night for
    ever), before the registry's first possible list, or before the last night published (nights are
    appended in date order; a night already published passes: it is returned as it was). The database
    must exist (DatabaseMissing). The one place for list-date rules: a run calls it first
    (`run_nightly`, the DAG's first task)."""
    check_clock(as_of)
    with registry_db.connect(db, read_only=True) as con:
        dates = ledger.published_dates(con) if _has_ledger(con) else []
    if dates and as_of not in dates and as_of < dates[-1]:
        raise ListDateRefused(
            f"list date {as_of} is before {dates[-1]}, the last night published; nights are appended in date "
            f"order, so {as_of} can no longer be listed. Nothing was built",
            hint=f"publish a date from {dates[-1]} on: anything owed for {as_of} is on the next night's list")


def check_clock(as_of: dt.date) -> None:
    """The half of `check_list_date` that needs no database: the list date against the clock."""
    today = settings.today()
    margin = settings.future_days()
    if as_of > today + dt.timedelta(days=margin):
        raise ListDateRefused(
            f"list date {as_of} is {(as_of - today).days} days after today ({today}); at most {margin} day(s) "
            f"ahead are allowed (${settings.FUTURE_DAYS_ENV}): a typo? Nothing was built",
            hint=f"give the intended date; a replay or backfill sets the clock with ${settings.TODAY_ENV}=YYYY-MM-DD")
    if as_of < settings.EARLIEST_LIST_DATE:
        raise ListDateRefused(f"list date {as_of} is before {settings.EARLIEST_LIST_DATE}: a typo? Nothing was built")


def load_rules(db: Path, engine: str | None = None) -> catalog_model.Catalog:
    """Step 1: bring the database's own tables up to this version, then load the policy catalog
    (and, for the spark engine, write it to the lake the Spark build reads)."""
    with writer_lock(db, "registry nightly: load the catalog"):
        setup.prepare(db)
        catalog = load_catalog(db)
        if settings.engine(engine) == settings.SPARK:
            with registry_db.connect(db) as con:
                lake.sync(con, settings.lake_dir(db))
        return catalog


def build_models(as_of: dt.date, db: Path, data_tests: bool = True, on_line: Progress | None = None,
                 engine: str | None = None) -> bool:
    """Run `dbt build` (models and data tests) for the list date, unless the models already
    stand for this date and these inputs; returns whether dbt ran. The build is incremental
    (only the firms whose facts changed since the last build) when registry.models.builds allows it,
    else a full refresh. dbt's output goes to `on_line` line by line as it comes. `engine` (default
    $REGISTRY_ENGINE, else duckdb): `spark` builds the same models on Spark and reads them back into
    the database (registry.models.spark)."""
    engine = settings.engine(engine)
    with writer_lock(db, f"registry nightly --date {as_of}: dbt build"):
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
                             data_tests=data_tests, on_line=on_line)
        crashpoints.reach("dbt_finished")
        with registry_db.connect(db) as con:
            builds.record(con, plan, "finished")
        return True


def publish_list(as_of: dt.date, db: Path, on_step: Progress | None = None) -> PublishedList:
    """Append the night to the ledger (once), write its exports, publish the auditors' snapshot.

    The night's files are rendered in memory and read back inside the ledger transaction, before
    it commits: a text no file can hold, or a file that does not add up, fails the night with
    nothing published (rather than a published night without its files). After the commit the
    same bytes are written; a night already published renders them again from the ledger, so a
    rerun restores a file that is missing or stale."""
    with writer_lock(db, f"registry nightly --date {as_of}: publish"):
        return _publish_list(as_of, db, on_step or (lambda _text: None))


def _publish_list(as_of: dt.date, db: Path, step: Progress) -> PublishedList:
    step("checking the ledger and appending the night")
    output = settings.output_dir(db)
    csv_path = exports.list_csv_path(output, as_of)
    rendered: dict[str, bytes] = {}

    def render_before_commit(con: duckdb.DuckDBPyConnection) -> None:
        night = exports.read_night(con, as_of)
        files = exports.render(night)
        exports.check_rendered(night, files)
        rendered.update(files)

    with registry_db.connect(db) as con:
        invariants.require(con, snapshot.snapshot_path(db))
        lines = ledger.append_night(con, as_of, csv_path.name, fingerprint=builds.built_from(con, as_of) or "",
                                    notice_days=settings.notice_days(), today=settings.today(),
                                    before_commit=render_before_commit)
        crashpoints.reach("ledger_committed")
        night = exports.read_night(con, as_of)
    files = rendered
    if not files:  # a night already published: its files again, from the ledger
        files = exports.render(night)
        exports.check_rendered(night, files)
    step(f"writing the list files to {output}")
    exports.write_list_csv(output, night, files)
    crashpoints.reach("list_csv_written")
    paths = exports.write_other_exports(output, night, files)
    exports.verify_written(output, night, files)
    crashpoints.reach("exports_written")
    step("publishing the auditors' snapshot")
    snapshot.publish(db)
    snapshot.publish_parquet(db)
    return PublishedList(as_of, tuple(lines), csv_path, night.changes, snapshot.snapshot_path(db),
                         paths.get("report"), paths.get("index"))


def run_nightly(as_of: dt.date, db: Path, engine: str | None = None, on_step: Progress | None = None,
                on_line: Progress | None = None) -> PublishedList:
    """The whole night, holding the run lock throughout; a night already published is returned
    unchanged, without rebuilding. A slip of the date is refused first (`check_list_date`).
    `engine`: where the models are built (duckdb or spark); everything else is the same.
    `on_step` hears each step as it starts, `on_line` each line of dbt's output."""
    step = on_step or (lambda _text: None)
    with writer_lock(db, f"registry nightly --date {as_of}"):
        check_list_date(as_of, db)
        if not is_published(as_of, db):
            step("loading the policy catalog")
            load_rules(db, engine)
            crashpoints.reach("catalog_loaded")
            step(f"building the models for {as_of} (dbt build on {settings.engine(engine)})")
            build_models(as_of, db, on_line=on_line, engine=engine)
            crashpoints.reach("models_built")
        else:
            step(f"list {as_of} is already published: returning it unchanged")
        return publish_list(as_of, db, on_step=step)
