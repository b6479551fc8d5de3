"""`registry demo`: the whole pipeline on the bundled sample data, into a fresh database.

The demo runs on the ordinary clock: its list date (2026-11-01) is in the past, so the same checks
as any night apply (a `--date` beyond $REGISTRY_FUTURE_DAYS after today is refused), and the sample
data were all published before it.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path

from registry.core import settings
from registry.ingest.land import IngestReport, Progress, ingest_file
from registry.ledger.snapshot import snapshot_path
from registry.pipeline.nightly import PublishedList, check_clock, run_nightly
from registry.pipeline.setup import init_database
from registry.store.lock import writer_lock

DEMO_DATE = settings.DEMO_DATE
SAMPLE_FILES = (("firms", "firms.csv"), ("events", "events.csv"), ("events", "events_bad.csv"))


def fill_demo_inbox(folder: Path) -> list[Path]:
    """Copy every bundled sample (sources/*/samples/*) into `folder`, as deliveries in an inbox: what
    `make airflow` points the ingest DAGs at. Returns the copies; files already there are replaced."""
    folder.mkdir(parents=True, exist_ok=True)
    copies = []
    for sample in settings.bundled_samples():
        copies.append(Path(shutil.copy2(sample, folder / sample.name)))
    return copies


def run_demo(db: Path, list_date: dt.date = DEMO_DATE, progress: Progress | None = None,
             on_step: Callable[[str], None] | None = None,
             on_line: Callable[[str], None] | None = None) -> tuple[list[IngestReport], PublishedList]:
    """Start from an empty database at `db`, land the samples and publish the list for `list_date`
    (progress: ingest rows to `progress`, each step to `on_step`, dbt's lines to `on_line`)."""
    step = on_step or (lambda _text: None)
    with writer_lock(db, f"registry demo --date {list_date}", create=True):
        check_clock(list_date)  # a slip of --date is refused before anything is deleted
        if db.exists():
            db.unlink()
        shutil.rmtree(settings.output_dir(db), ignore_errors=True)
        snapshot_path(db).unlink(missing_ok=True)  # the auditors' copy of the database being replaced
        shutil.rmtree(settings.gx_project_dir(db) / "gx", ignore_errors=True)  # its GX results and Data Docs
        init_database(db)
        reports = []
        for source, name in SAMPLE_FILES:
            step(f"ingesting {name} as {source}")
            reports.append(ingest_file(source, settings.sample(source, name), db, progress))
        return reports, run_nightly(list_date, db, on_step=on_step, on_line=on_line)
