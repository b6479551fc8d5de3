"""
### registry_nightly — 免申即享兑付清单 / nightly disbursement list

**中文**：每天上海时间 02:00 运行（或在全部数据源入库后提前运行）：`check_list_date`（先核对清单日期：
早于最近一次已发布日期的清单不能再发布，立即失败、不重试，不会先跑一遍 dbt）→ `load_catalog`（把
`policies/*.yml` 政策条款载入登记库）→ `build_models`（在子进程中运行 `dbt build`，计算应享奖励；
dbt 每个模型和测试的结果与耗时逐行写入任务日志；参数 `engine` 为 `spark` 时在 Apache Spark 上运行
同一 dbt 项目）→ `publish_list`（把当晚清单追加到兑付台账，并写出 CSV）。清单日期 = 本次运行的逻辑日期
换算成上海本地日期；手动触发时可以用参数 `list_date`
（YYYY-MM-DD）指定日期。台账只追加：已发布的日期重跑时跳过 `load_catalog` 和 `build_models`，
`publish_list` 返回同一份清单。**绝不意外发布**：DAG 创建时处于暂停状态；定时运行若比其 02:00
时点晚了 3 小时以上（例如暂停后恢复、调度器停机），则拒绝发布，需手动触发并给出 `list_date`。

**English**: at 02:00 Asia/Shanghai (or earlier, once every source has landed):
`check_list_date` (a list date before the last night published is refused at once, without
retries and before any build) → `load_catalog` (the policy clauses from `policies/*.yml`) →
`build_models` (`dbt build` in a subprocess; each model and test with its time is in the task log;
with the param `engine` = `spark`, or `REGISTRY_ENGINE=spark`, the same dbt project on Apache Spark)
→ `publish_list` (append the night's list to the ledger, write its files; the task returns the
list as JSON). The list date is the run's logical date as a local date in Asia/Shanghai; a
`list_date` param / run conf (YYYY-MM-DD) overrides it. The ledger is append-only: for a night
already published, `load_catalog` and `build_models` are skipped and `publish_list` returns the
same list.

**Never publish by accident.** The DAG is created paused: unpausing it is the operator's decision.
Airflow then runs the latest 02:00 slot at once (catchup is off, but the latest slot still runs);
a *scheduled* run that starts more than 3 hours after its slot (the DAG was paused, the scheduler
was down) is refused in `check_list_date` with a message saying how to publish that night on
purpose: trigger the DAG with `list_date`. Errors that cannot change on retry (date order, a bad
catalog, a failing dbt test, a missing database) fail the task without retries; only a busy
database is retried. Every writing task runs in the pool `registry_duckdb` (one slot: DuckDB has
one writer).

**dbt as one task, not one task per model (astronomer-cosmos): measured.** One `dbt build` of the
night (34 models, 120 data tests) took 44.5 s as a task under the real scheduler. One dbt invocation
for a single model costs about 15 s on the same machine (dbt's start-up and project load, for a
model that runs in 0.35-0.5 s), so a task per model and per model's tests (about 68 invocations)
would cost some 17 minutes plus Airflow's task overhead, and DuckDB's single writer runs them one at a
time anyway. The node-by-node view is in the task log instead (every model and test, its time).

All logic lives in the `registry` package (`registry.pipeline.nightly`), the same
functions that `registry nightly --date D` calls.
"""

from __future__ import annotations

import datetime as dt
import logging
from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, Param, TriggerRule, dag, task
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from registry.core import settings
from registry.ingest.assets import all_sources_landed
from registry.pipeline.tasks import final_errors

settings.quiet_third_party()

log = logging.getLogger(__name__)

LOCAL_TZ = "Asia/Shanghai"
POOL = "registry_duckdb"
LATE_SLOT = timedelta(hours=3)  # a scheduled run starting later than this after its slot publishes nothing


def resolve_list_date(
    logical_date: dt.datetime | None,
    run_after: dt.datetime | None = None,
    override: str | None = None,
) -> dt.date:
    """The night a run publishes: `override` (YYYY-MM-DD) if given, else the logical date
    (else, for a run without one, its run_after) as a local date in Asia/Shanghai."""
    if override:
        return dt.date.fromisoformat(str(override).strip())
    moment = logical_date or run_after
    if moment is None:
        raise ValueError("the run has neither a logical date nor run_after: pass list_date")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)  # Airflow's naive datetimes are UTC
    return pendulum.instance(moment).in_timezone(LOCAL_TZ).date()


def _override(context: dict[str, Any]) -> str | None:
    params = context.get("params") or {}
    dag_run = context.get("dag_run")
    return params.get("list_date") or ((getattr(dag_run, "conf", None) or {}).get("list_date"))


def list_date_from_context(context: dict[str, Any]) -> dt.date:
    dag_run = context.get("dag_run")
    return resolve_list_date(context.get("logical_date"), getattr(dag_run, "run_after", None),
                             override=_override(context))


def late_slot(run_type: str | None, slot: dt.datetime | None, now: dt.datetime, explicit: bool) -> str | None:
    """Why a run must not publish: a *scheduled* run (not one triggered by hand or by the sources'
    Assets, not one naming its list_date) starting more than LATE_SLOT after its 02:00 slot. None
    when it may run."""
    if explicit or slot is None or str(getattr(run_type, "value", run_type)) != "scheduled":
        return None
    if slot.tzinfo is None:
        slot = slot.replace(tzinfo=dt.UTC)
    late = now - slot
    if late <= LATE_SLOT:
        return None
    local = pendulum.instance(slot).in_timezone(LOCAL_TZ)
    return (f"the scheduled slot {local:%Y-%m-%d %H:%M} ({LOCAL_TZ}) started {late.total_seconds() / 3600:.1f} h late "
            f"(the DAG was paused or the scheduler down); a late night is published only on purpose: trigger "
            f"registry_nightly with list_date={local:%Y-%m-%d} (or a later date)")


def engine_from_context(context: dict[str, Any]) -> str:
    """The engine param / run conf, else $REGISTRY_ENGINE, else duckdb."""
    params = context.get("params") or {}
    dag_run = context.get("dag_run")
    return settings.engine(params.get("engine") or ((getattr(dag_run, "conf", None) or {}).get("engine")))


def skip_if_published(as_of: dt.date) -> None:
    """A published night is never rebuilt (as `registry.pipeline.nightly.run_nightly`): skip the step."""
    from registry.pipeline.nightly import is_published

    if is_published(as_of, settings.db_path()):
        raise AirflowSkipException(f"list {as_of.isoformat()} is already published; not rebuilding")


@dag(
    dag_id="registry_nightly",
    description="免申即享 registry: check the date, catalog, dbt build, publish the nightly disbursement list",
    # At 02:00, or earlier as soon as every source (sources/<name>/source.yml) has landed since the last run:
    # the ingest DAGs run before 02:00, so the list follows its inputs; a source that fails or
    # never delivers does not hold the list back past 02:00 (see dags/registry_ingest.py).
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("0 2 * * *", timezone=LOCAL_TZ), assets=all_sources_landed()
    ),
    start_date=pendulum.datetime(2026, 1, 1, tz=LOCAL_TZ),
    catchup=False,
    is_paused_upon_creation=True,
    max_active_runs=1,
    tags=["registry", "nightly", "免申即享"],
    doc_md=__doc__,
    params={
        "list_date": Param(
            None,
            type=["null", "string"],
            pattern=r"^\d{4}-\d{2}-\d{2}$",
            description="清单日期 / list date YYYY-MM-DD; empty = the run's logical date in Asia/Shanghai",
        ),
        "engine": Param(
            None,
            type=["null", "string"],
            enum=[None, *settings.ENGINES],
            description="计算引擎 / where the models are built: duckdb or spark; empty = $REGISTRY_ENGINE, "
                        "else duckdb",
        ),
    },
    default_args={
        "owner": "registry",
        "retries": 2,
        "retry_delay": timedelta(minutes=10),
    },
)
def registry_nightly() -> None:
    @task
    def check_list_date(**context: Any) -> str:
        """Refuse, before any build, a night that cannot be published: a list date before the last
        night published, or a scheduled slot that started hours late. A refusal is final (no retry);
        a busy database (another writer) is retried."""
        from registry.pipeline.nightly import check_list_date as _check

        dag_run = context.get("dag_run")
        late = late_slot(getattr(dag_run, "run_type", None), context.get("logical_date"),
                         pendulum.now("UTC"), explicit=bool(_override(context)))
        if late:
            raise AirflowFailException(late)
        as_of = list_date_from_context(context)
        with final_errors(AirflowFailException):
            _check(as_of, settings.db_path())
        log.info("list date %s: may be published (database %s)", as_of.isoformat(), settings.db_path())
        return as_of.isoformat()

    @task(pool=POOL)
    def load_catalog(**context: Any) -> str:
        """Load the policy catalog (policies/*.yml) into the registry (the list date was checked by
        the first task)."""
        from registry.pipeline.nightly import load_rules

        skip_if_published(list_date_from_context(context))
        with final_errors(AirflowFailException):
            summary = load_rules(settings.db_path(), engine_from_context(context)).summary()
        log.info("%s", summary)
        return summary

    @task(pool=POOL)
    def build_models(**context: Any) -> str:
        """dbt build for the list date: on DuckDB (a subprocess; dbt's output, node by node, in this
        log) or, with the engine spark, on Spark."""
        from registry.pipeline.nightly import build_models as _build_models

        as_of = list_date_from_context(context)
        skip_if_published(as_of)
        engine = engine_from_context(context)
        log.info("building the models for list date %s on %s", as_of.isoformat(), engine)
        with final_errors(AirflowFailException):
            ran = _build_models(as_of, settings.db_path(), on_line=lambda line: log.info("dbt: %s", line),
                                engine=engine)
        if not ran:
            log.info("the models already stand for %s from these inputs: dbt not run", as_of.isoformat())
        return as_of.isoformat()

    # none_failed: after a night already published (the two steps above skipped), publishing
    # again returns that night's list unchanged; after a failure it does not run.
    @task(pool=POOL, trigger_rule=TriggerRule.NONE_FAILED)
    def publish_list(**context: Any) -> dict:
        """Append the night's list to the ledger, write its CSV, return it as JSON."""
        from registry.pipeline.nightly import publish_list as _publish_list

        as_of = list_date_from_context(context)
        with final_errors(AirflowFailException):
            published = _publish_list(as_of, settings.db_path(), on_step=lambda text: log.info("%s", text))
        log.info("%s", published.summary())
        return published.to_json_obj()

    check_list_date() >> load_catalog() >> build_models() >> publish_list()


registry_nightly()
