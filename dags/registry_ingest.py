"""
### registry_ingest — 收件箱入库 / inbox ingest

**中文**：每小时（上海时间每小时第 30 分）扫描收件箱目录（环境变量 `REGISTRY_INBOX`，默认为仓库的
`sample_data/`），把其中的 `firms*.csv`（企业主数据）和 `events*.csv`（资质事件）按文件名排序后逐个
入库到 DuckDB 登记库（`REGISTRY_DB`）。先入企业，再入事件。同一文件重复投递不会新增任何数据，
所以反复扫描是安全的；坏行进入隔离表（quarantine），不会中断入库，也不会被悄悄丢弃。

**English**: every hour (at minute 30, Asia/Shanghai) scan the inbox folder (`REGISTRY_INBOX`,
default: the repo's `sample_data/`) and ingest every `firms*.csv` (firm master data) and then every
`events*.csv` (qualification events), each sorted by file name, into the DuckDB registry
(`REGISTRY_DB`) through `registry.ingest.ingest_file`. Re-delivering a file adds nothing, so scanning
the same folder again is safe; bad rows go to quarantine, never stop a load, never vanish.

DuckDB allows one writer process: the ingest tasks run one file at a time
(`max_active_tis_per_dag=1`, `max_active_runs=1`), firms land before events, and the schedule keeps
off the nightly run's 02:00 slot. A lock clash with the nightly run is retried.
"""

from __future__ import annotations

import logging
import os
from datetime import timedelta
from pathlib import Path

import pendulum
from airflow.sdk import CronTriggerTimetable, TriggerRule, dag, task

from registry import settings

settings.quiet_third_party()

log = logging.getLogger(__name__)

LOCAL_TZ = "Asia/Shanghai"
INBOX_ENV_VAR = "REGISTRY_INBOX"
# Firms first, then events: an event is only meaningful for a firm the registry knows.
SOURCES = ("firms", "events")


def inbox_dir() -> Path:
    """The folder scanned for deliveries: $REGISTRY_INBOX, else the bundled sample data."""
    chosen = os.environ.get(INBOX_ENV_VAR)
    return Path(chosen).resolve() if chosen else settings.SAMPLE_DIR


def inbox_files(source: str, folder: Path) -> list[str]:
    """`<source>*.csv` files in `folder`, sorted by name (plain files only)."""
    return [str(p) for p in sorted(folder.glob(f"{source}*.csv"), key=lambda p: p.name) if p.is_file()]


@dag(
    dag_id="registry_ingest",
    description="免申即享 registry: ingest firms*.csv then events*.csv from the inbox",
    schedule=CronTriggerTimetable("30 * * * *", timezone=LOCAL_TZ),
    start_date=pendulum.datetime(2026, 1, 1, tz=LOCAL_TZ),
    catchup=False,
    max_active_runs=1,
    tags=["registry", "ingest", "免申即享"],
    doc_md=__doc__,
    default_args={
        "owner": "registry",
        "retries": 2,
        "retry_delay": timedelta(minutes=5),
    },
)
def registry_ingest() -> None:
    @task
    def list_inbox(source: str) -> list[str]:
        """The files of one source waiting in the inbox."""
        folder = inbox_dir()
        if not folder.is_dir():
            raise FileNotFoundError(f"inbox folder {folder} does not exist (set ${INBOX_ENV_VAR})")
        files = inbox_files(source, folder)
        log.info("%s: %d file(s) in %s: %s", source, len(files), folder, [Path(f).name for f in files])
        return files

    # One file at a time across all runs of this DAG: DuckDB takes one writer process.
    @task(max_active_tis_per_dag=1)
    def ingest(source: str, path: str) -> dict:
        """Land one file; a file already ingested is a no-op."""
        import json

        from registry.ingest import ingest_file

        report = ingest_file(source, Path(path), settings.db_path())
        log.info("%s", report.summary())
        # XCom must be JSON-safe: dates, decimals and paths become strings.
        return json.loads(json.dumps(report.to_dict(), default=str))

    firms = (
        ingest.override(task_id="ingest_firms")
        .partial(source="firms")
        .expand(path=list_inbox.override(task_id="list_firms")("firms"))
    )
    # none_failed: no firms file in the inbox (mapped over nothing = skipped) must not hold
    # events back, but a failed firms load must.
    events = (
        ingest.override(task_id="ingest_events", trigger_rule=TriggerRule.NONE_FAILED)
        .partial(source="events")
        .expand(path=list_inbox.override(task_id="list_events")("events"))
    )
    firms >> events


registry_ingest()
