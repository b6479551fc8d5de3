"""Crash points: where the crash-safety test kills the nightly run or an ingest (SIGKILL).

`reach(point)` does nothing unless $REGISTRY_TEST_CRASH_AT names the point *and* the process
runs under pytest ($PYTEST_CURRENT_TEST, which pytest sets and child processes inherit), so a
stray variable on a production machine cannot kill a night.
"""

from __future__ import annotations

import os
import signal

from registry.core import settings

CRASH_ENV = settings.CRASH_ENV

# In the order a night reaches them (registry.pipeline.nightly).
POINTS = (
    "catalog_loaded",  # policy tables rewritten, models not built
    "dbt_finished",  # dbt build exited 0, the build not yet recorded as finished
    "models_built",  # build recorded, ledger untouched
    "ledger_written",  # the night's rows inserted and checked, transaction not committed
    "ledger_committed",  # the night is in the ledger, no file written
    "list_csv_written",  # the CSV list written, the other exports not
    "exports_written",  # every export written, snapshot not copied
    "snapshot_copied",  # snapshot copied to its temporary file, not swapped in
    "snapshot_published",  # snapshot swapped in: the night is complete
)


# In the order an ingest reaches them (registry.ingest.land): inside the landing transaction.
INGEST_POINTS = (
    "ingest_rows_inserted",  # the file's facts inserted, quarantine and load record not yet
    "ingest_before_commit",  # everything inserted, transaction not committed
)


def reach(point: str) -> None:
    if point not in POINTS and point not in INGEST_POINTS:
        raise ValueError(f"unknown crash point {point!r}")
    if settings.crash_point() == point:
        os.kill(os.getpid(), signal.SIGKILL)
