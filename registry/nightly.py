"""The nightly run: load the catalog, build the models for the list date, publish the list.

Each step opens the database, works and closes it, so the steps can run as separate
Airflow tasks and never hold DuckDB's single-writer lock between them. A night that is
already published is returned as it was: rerunning changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from registry import catalog, dbt_runner, exports, ledger, settings
from registry import db as registry_db


@dataclass(frozen=True)
class PublishedList:
    list_date: dt.date
    lines: tuple[ledger.Line, ...]
    csv_path: Path

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
        return (f"list {self.list_date}: {len(self.lines)} lines ({len(awards)} awards, {len(reversals)} "
                f"reversals) for {firms} firms, total {self.total:.2f} yuan\n  written to {self.csv_path}")


def is_published(as_of: dt.date, db: Path) -> bool:
    if not db.exists():
        return False
    with registry_db.connect(db) as con:
        return as_of in ledger.published_dates(con)


def build_models(as_of: dt.date, db: Path) -> None:
    """Run `dbt build` (models, data tests, unit tests) for the list date."""
    dbt_runner.build(db, as_of)


def publish_list(as_of: dt.date, db: Path) -> PublishedList:
    """Append the night to the ledger (once) and write its CSV; returns the list of that night."""
    output = settings.output_dir(db)
    csv_path = exports.list_csv_path(output, as_of)
    with registry_db.connect(db) as con:
        lines = ledger.append_night(con, as_of, csv_path.name)
    exports.write_list_csv(output, as_of, lines)
    return PublishedList(as_of, tuple(lines), csv_path)


def run_nightly(as_of: dt.date, db: Path) -> PublishedList:
    """The whole night; a night already published is returned unchanged, without rebuilding."""
    if not is_published(as_of, db):
        catalog.load_catalog(db)
        build_models(as_of, db)
    return publish_list(as_of, db)
