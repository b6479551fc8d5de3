"""`registry demo`: the whole pipeline on the bundled sample data, into a fresh database."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path

from registry.core import settings
from registry.ingest.land import IngestReport, Progress, ingest_file
from registry.ledger.snapshot import snapshot_path
from registry.pipeline.nightly import PublishedList, run_nightly
from registry.pipeline.setup import init_database

DEMO_DATE = settings.DEMO_DATE
SAMPLE_FILES = (("firms", "firms.csv"), ("events", "events.csv"), ("events", "events_bad.csv"))


def run_demo(db: Path, list_date: dt.date = DEMO_DATE, progress: Progress | None = None,
             on_step: Callable[[str], None] | None = None,
             on_line: Callable[[str], None] | None = None) -> tuple[list[IngestReport], PublishedList]:
    """Start from an empty database at `db`, land the samples and publish the list for `list_date`
    (progress: ingest rows to `progress`, each step to `on_step`, dbt's lines to `on_line`)."""
    step = on_step or (lambda _text: None)
    if db.exists():
        db.unlink()
    shutil.rmtree(settings.output_dir(db), ignore_errors=True)
    snapshot_path(db).unlink(missing_ok=True)  # the auditors' copy of the database being replaced
    shutil.rmtree(settings.gx_project_dir(db) / "gx", ignore_errors=True)  # its GX results and Data Docs
    init_database(db)
    reports = []
    for source, name in SAMPLE_FILES:
        step(f"ingesting {name} as {source}")
        reports.append(ingest_file(source, settings.SAMPLE_DIR / name, db, progress))
    return reports, run_nightly(list_date, db, on_step=on_step, on_line=on_line)
