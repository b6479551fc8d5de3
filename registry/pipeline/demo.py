"""`registry demo`: the whole pipeline on the bundled sample data, into a fresh database."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from registry.core import settings
from registry.ingest.land import IngestReport, ingest_file
from registry.ledger.snapshot import snapshot_path
from registry.pipeline.nightly import PublishedList, run_nightly
from registry.pipeline.setup import init_database

DEMO_DATE = settings.DEMO_DATE
SAMPLE_FILES = (("firms", "firms.csv"), ("events", "events.csv"), ("events", "events_bad.csv"))


def run_demo(db: Path, list_date: dt.date = DEMO_DATE) -> tuple[list[IngestReport], PublishedList]:
    """Start from an empty database at `db`, land the samples and publish the list for `list_date`."""
    if db.exists():
        db.unlink()
    shutil.rmtree(settings.output_dir(db), ignore_errors=True)
    snapshot_path(db).unlink(missing_ok=True)  # the auditors' copy of the database being replaced
    shutil.rmtree(settings.gx_project_dir(db) / "gx", ignore_errors=True)  # its GX results and Data Docs
    init_database(db)
    reports = [ingest_file(source, settings.SAMPLE_DIR / name, db) for source, name in SAMPLE_FILES]
    return reports, run_nightly(list_date, db)
