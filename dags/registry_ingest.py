"""
### registry_ingest_&lt;source&gt; — 数据源入库 / source ingest (one DAG per source folder, `sources/<name>/source.yml`)

**中文**：本文件是一个工厂：`sources/` 目录中每一个数据源规格（YAML）生成一个入库 DAG
`registry_ingest_<名称>`。按规格中的 `schedule`（上海时间 cron）扫描收件箱（环境变量
`REGISTRY_INBOX`，必须显式设置；未设置时任务失败并提示，绝不读取示例数据 `sources/*/samples/`）中与规格
`files` 匹配的文件，逐个入库（同一文件重复投递不会新增数据；坏行进入隔离表，不会中断入库，也不会被
悄悄丢弃）。文件未通过 Great Expectations 校验时，合格的行照常入库，但该文件的 `ingest` 任务标红
（不重试），日志和 raw.loads 中给出 GX Data Docs 页面。扫描成功后更新该数据源的
Airflow Asset（`registry://raw/<名称>`）；每晚的 `registry_nightly` 在全部数据源都入库后立即运行，
最迟在 02:00 运行。一个数据源失败不影响其他数据源入库。新增数据源 = 新增一个数据源目录（规格、GX 校验套件、样例）
（见 `docs/adding-a-source.md`）。

**English**: a factory: each source spec in `sources/` becomes one DAG `registry_ingest_<name>`.
On the spec's `schedule` (cron, Asia/Shanghai) it lists the inbox (`REGISTRY_INBOX`: it must be
set; unset, `list_inbox` fails saying so, and nothing ever falls back to the bundled samples, `sources/*/samples/`)
for files matching the spec's `files` glob and lands each one through `registry.ingest.land` (a file
already loaded adds nothing; bad rows go to quarantine). When the scan succeeded, `landed` updates
the source's Asset `registry://raw/<name>`; `registry_nightly` runs as soon as every source has
landed since its last run, and at 02:00 at the latest. Sources are separate DAGs, so a failing
source never blocks the others. A malformed spec gives a DAG whose one task fails with the spec's
error, so it shows in the UI without hiding the other sources.

**A file that fails its Great Expectations suite** lands its good rows (bad rows are quarantined, as
always) but its `ingest` task fails, without retries, naming the failed expectations and the GX
Data Docs page of that validation; raw.loads records `gx_success` and `gx_docs`. The source's
Asset is then not updated by this run, so the nightly waits for 02:00 instead of starting early.
The next scan sees the file as already loaded and succeeds: the red task stays in the grid.

**Errors that cannot change on retry** (a missing database, an unknown source, a malformed file
spec) fail the task at once (`AirflowFailException`); only a busy database is retried.

**DuckDB has one writer.** Every task that writes runs in the Airflow pool `registry_duckdb` with
one slot (create it once per deployment: `airflow pools set registry_duckdb 1 "DuckDB: one writer"`),
so ingest DAGs never write at the same time (the nightly's tasks use the same pool); each load also
holds the registry's run lock (`registry.store.lock`, the same as `registry ingest`), so a clash with
the nightly run fails the attempt at once, naming the night that holds the lock, and is retried
(`retries`, 5 minutes apart). `make airflow` creates the pool; a deployment creates it once.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import CronTriggerTimetable, TriggerRule, dag, task
from airflow.sdk.exceptions import AirflowFailException

from registry.core import settings
from registry.ingest.assets import source_asset
from registry.ingest.errors import SpecError
from registry.ingest.spec import SourceSpec, load_spec, spec_paths
from registry.pipeline.tasks import final_errors

settings.quiet_third_party()

log = logging.getLogger(__name__)

LOCAL_TZ = "Asia/Shanghai"
INBOX_ENV_VAR = settings.INBOX_ENV_VAR
POOL = "registry_duckdb"
START = pendulum.datetime(2026, 1, 1, tz=LOCAL_TZ)
DEFAULT_ARGS = {"owner": "registry", "retries": 2, "retry_delay": timedelta(minutes=5)}


def inbox_dir() -> Path:
    """The folder scanned for deliveries: $REGISTRY_INBOX, which must be set (never the sample data)."""
    folder = settings.inbox_dir()
    if folder is None:
        raise AirflowFailException(
            f"${INBOX_ENV_VAR} is not set: the ingest DAGs scan only the inbox a deployment names "
            f"(export {INBOX_ENV_VAR}=/path/to/deliveries for the scheduler and workers; `make airflow` sets "
            "it to var/airflow/demo_inbox, filled with the bundled samples, for the demo)")
    if not folder.is_dir():
        raise AirflowFailException(f"inbox folder {folder} does not exist (check ${INBOX_ENV_VAR})")
    return folder


def gx_failure(report: dict) -> str | None:
    """Why a landed file's task must fail: its batch failed its GX suite (None when it passed or was
    loaded before)."""
    if report.get("already_loaded") or report.get("gx_success") is not False:
        return None
    name = Path(str(report.get("file"))).name
    docs = report.get("gx_docs") or "(no Data Docs page recorded)"
    return (f"{report.get('source')} <- {name}: landed {report.get('landed')} rows, quarantined "
            f"{report.get('quarantined')}, but the batch fails its Great Expectations suite: "
            f"{report.get('gx_summary')}. Data Docs: {docs}")


def inbox_files(spec: SourceSpec, folder: Path) -> list[str]:
    """Files under `folder` matching the spec's `files` glob, sorted by name (plain files only)."""
    return [str(p) for p in sorted(folder.glob(spec.files), key=lambda p: p.name) if p.is_file()]


def build_ingest_dag(spec: SourceSpec) -> Any:
    """The ingest DAG of one source: list_inbox -> ingest (one mapped task per file) -> landed."""

    @dag(
        dag_id=spec.dag_id,
        description=f"免申即享 registry: ingest {spec.title} ({spec.name}, {spec.format})",
        schedule=CronTriggerTimetable(spec.schedule, timezone=LOCAL_TZ),
        start_date=START,
        catchup=False,
        max_active_runs=1,
        tags=["registry", "ingest", spec.contract, spec.format],
        doc_md=f"{__doc__}\n\n#### {spec.name}: {spec.title}\n\n{spec.publisher}\n\n"
               f"spec `{spec.path.name if spec.path else spec.name}`, files `{spec.files}`, suite `{spec.suite}`",
        default_args=DEFAULT_ARGS,
    )
    def ingest_source() -> None:
        @task
        def list_inbox() -> list[str]:
            """The files of this source waiting in the inbox."""
            folder = inbox_dir()
            files = inbox_files(spec, folder)
            log.info("%s: %d file(s) matching %s in %s", spec.name, len(files), spec.files, folder)
            return files

        # One writer at a time across every ingest DAG: the pool has one slot.
        @task(pool=POOL, max_active_tis_per_dag=1)
        def ingest(path: str) -> dict:
            """Land one file (the same code as `registry ingest`); a file already ingested is a no-op.
            Fails (no retry) when the file's batch fails its GX suite: the rows have landed, the red
            task and its log say which expectations failed and where the Data Docs page is."""
            from registry.ingest.land import land_source

            with final_errors(AirflowFailException):
                report = land_source(spec.name, path, settings.db_path(), log)
            failure = gx_failure(report)
            if failure:
                raise AirflowFailException(failure)
            return report

        # none_failed: an empty inbox (ingest mapped over nothing = skipped) is a successful scan.
        @task(outlets=[source_asset(spec.name)], trigger_rule=TriggerRule.NONE_FAILED)
        def landed(**context: Any) -> dict:
            """Every file of this run landed: tell the nightly run (Asset event)."""
            reports = context["ti"].xcom_pull(task_ids="ingest") or []
            reports = [r for r in (reports if isinstance(reports, list) else [reports]) if r]
            summary = {"source": spec.name, "files": len(reports),
                       "landed": sum(r.get("landed", 0) for r in reports),
                       "quarantined": sum(r.get("quarantined", 0) for r in reports)}
            log.info("%s", summary)
            return summary

        ingest.expand(path=list_inbox()) >> landed()

    return ingest_source()


def build_broken_dag(name: str, error: str) -> Any:
    """A malformed spec still gets its DAG: one task that fails with the spec's error."""

    @dag(dag_id=f"registry_ingest_{name}", description=f"BROKEN SPEC sources/{name}/source.yml", schedule=None,
         start_date=START, catchup=False, tags=["registry", "ingest", "broken"], doc_md=f"```\n{error}\n```")
    def broken_source() -> None:
        @task
        def spec_error() -> None:
            raise SpecError(error)

        spec_error()

    return broken_source()


for _path in spec_paths():
    try:
        _spec = load_spec(_path)
    except SpecError as _err:
        log.error("%s", _err)
        globals()[f"registry_ingest_{_path.parent.name}"] = build_broken_dag(_path.parent.name, str(_err))
    else:
        globals()[_spec.dag_id] = build_ingest_dag(_spec)
