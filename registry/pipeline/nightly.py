"""The nightly run: load the catalog, build the models for the list date, publish the list.

Steps, each idempotent, so a run killed anywhere and run again ends where an uninterrupted
run ends (tests/test_crash_safety.py kills it at every step):

0. check_list_date         refuse a list date that can never be published (before a night already
                           published), before anything is built: the answer cannot change on retry;
1. load_catalog            rewrite policy tables from policies/*.yml (same files, same rows);
2. build_models            `dbt build` in a child process, skipped when the last finished build
                           was for this date from the very same inputs (registry.models.builds);
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
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from registry.catalog import read as catalog_model
from registry.catalog.store import load_catalog
from registry.core import crashpoints, settings
from registry.core.errors import RegistryError
from registry.ledger import append as ledger
from registry.ledger import invariants, snapshot
from registry.models import builds
from registry.models import dbt as dbt_runner
from registry.pipeline import setup
from registry.publish import exports
from registry.store import db as registry_db


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


class ListDateRefused(RegistryError):
    """The list date can never be published (nights are appended in date order); not retryable."""


Progress = Callable[[str], None]  # one line of a step's output (dbt's node lines), as it comes


def check_list_date(as_of: dt.date, db: Path) -> None:
    """Refuse, before anything is built, a list date that cannot be published: the database must
    exist (DatabaseMissing), and nights are appended in date order, so a date before the last night
    published is refused (a night already published is fine: it is returned unchanged). The one place
    for list-date rules: a run calls it first (`run_nightly`, the DAG's first task)."""
    with registry_db.connect(db, read_only=True) as con:
        dates = ledger.published_dates(con) if _has_ledger(con) else []
    if dates and as_of not in dates and as_of < dates[-1]:
        raise ListDateRefused(
            f"list date {as_of} is before {dates[-1]}, the last night published; nights are appended in "
            f"date order, so {as_of} can no longer be listed",
            hint=f"publish a date from {dates[-1]} on: anything owed for {as_of} is on the next night's list")


def _has_ledger(con: Any) -> bool:
    return bool(con.execute("select count(*) from information_schema.tables where table_schema = 'ledger' "
                            "and table_name = 'lists'").fetchone()[0])


def is_published(as_of: dt.date, db: Path) -> bool:
    if not db.exists():
        return False
    with registry_db.connect(db, read_only=True) as con:
        return _has_ledger(con) and as_of in ledger.published_dates(con)


def load_rules(db: Path) -> catalog_model.Catalog:
    """Step 1: bring the database's own tables up to this version, then load the policy catalog."""
    setup.prepare(db)
    return load_catalog(db)


def build_models(as_of: dt.date, db: Path, data_tests: bool = True, on_line: Progress | None = None) -> bool:
    """Run `dbt build` (models and data tests) for the list date, unless the models already
    stand for this date and these inputs; returns whether dbt ran. The build is incremental
    (only the firms whose facts changed since the last build) when registry.models.builds allows it,
    else a full refresh. dbt's output goes to `on_line` line by line as it comes."""
    with registry_db.connect(db) as con:
        plan = builds.plan(con, as_of)
        if plan.up_to_date:
            return False
        builds.record(con, plan, "started")
    dbt_runner.build(db, as_of, changed_since=plan.since, full_refresh=plan.mode == builds.FULL, data_tests=data_tests,
                     on_line=on_line)
    crashpoints.reach("dbt_finished")
    with registry_db.connect(db) as con:
        builds.record(con, plan, "finished")
    return True


def publish_list(as_of: dt.date, db: Path, on_step: Progress | None = None) -> PublishedList:
    """Append the night to the ledger (once), write its exports, publish the auditors' snapshot."""
    step = on_step or (lambda _text: None)
    step("checking the ledger and appending the night")
    output = settings.output_dir(db)
    csv_path = exports.list_csv_path(output, as_of)
    with registry_db.connect(db) as con:
        invariants.require(con, snapshot.snapshot_path(db))
        lines = ledger.append_night(con, as_of, csv_path.name, fingerprint=builds.built_from(con, as_of) or "",
                                    notice_days=settings.notice_days())
        crashpoints.reach("ledger_committed")
        night = exports.read_night(con, as_of)
    step(f"writing the list files to {output}")
    exports.write_list_csv(output, night)
    crashpoints.reach("list_csv_written")
    exports.write_other_exports(output, night)
    exports.verify_exports(output, night)
    crashpoints.reach("exports_written")
    step("publishing the auditors' snapshot")
    snapshot.publish(db)
    return PublishedList(as_of, tuple(lines), csv_path, night.changes, snapshot.snapshot_path(db))


def run_nightly(as_of: dt.date, db: Path, on_step: Progress | None = None,
                on_line: Progress | None = None) -> PublishedList:
    """The whole night; a night already published is returned unchanged, without rebuilding.
    `on_step` hears each step as it starts, `on_line` each line of dbt's output."""
    step = on_step or (lambda _text: None)
    check_list_date(as_of, db)
    if not is_published(as_of, db):
        step("loading the policy catalog")
        load_rules(db)
        crashpoints.reach("catalog_loaded")
        step(f"building the models for {as_of} (dbt build)")
        build_models(as_of, db, on_line=on_line)
        crashpoints.reach("models_built")
    else:
        step(f"list {as_of} is already published: returning it unchanged")
    return publish_list(as_of, db, on_step=step)
