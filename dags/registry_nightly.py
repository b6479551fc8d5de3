"""
### registry_nightly — 免申即享兑付清单 / nightly disbursement list

**中文**：每天上海时间 02:00 运行：`load_catalog`（把 `policies/*.yml` 政策条款载入登记库）→
`build_models`（在子进程中运行 `dbt build`，计算应享奖励；参数 `engine` 为 `spark` 时在
Apache Spark 上运行同一 dbt 项目）→ `publish_list`（把当晚清单追加到兑付台账，
并写出 CSV）。清单日期 = 本次运行的逻辑日期换算成上海本地日期；手动触发时可以用参数 `list_date`
（YYYY-MM-DD）指定日期。台账只追加：已发布的日期重跑时跳过 `load_catalog` 和 `build_models`，
`publish_list` 返回同一份清单。

**English**: runs at 02:00 Asia/Shanghai: `load_catalog` (load the policy clauses from
`policies/*.yml`) → `build_models` (`dbt build` in a subprocess: entitlements; with the param
`engine` = `spark`, or `REGISTRY_ENGINE=spark`, the same dbt project on Apache Spark) → `publish_list`
(append the night's list to the ledger, write its CSV; the task returns the list as JSON). The list
date is the run's logical date as a local date in Asia/Shanghai; a `list_date` param / run conf
(YYYY-MM-DD) overrides it. The ledger is append-only: for a night already published,
`load_catalog` and `build_models` are skipped and `publish_list` returns the same list.

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
from airflow.sdk.exceptions import AirflowSkipException

from registry.core import settings
from registry.ingest.assets import all_sources_landed

settings.quiet_third_party()

log = logging.getLogger(__name__)

LOCAL_TZ = "Asia/Shanghai"


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


def list_date_from_context(context: dict[str, Any]) -> dt.date:
    params = context.get("params") or {}
    dag_run = context.get("dag_run")
    override = params.get("list_date") or ((getattr(dag_run, "conf", None) or {}).get("list_date"))
    return resolve_list_date(context.get("logical_date"), getattr(dag_run, "run_after", None), override=override)


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
    description="免申即享 registry: catalog, dbt build, publish the nightly disbursement list",
    # At 02:00, or earlier as soon as every source (sources/*.yml) has landed since the last run:
    # the ingest DAGs run before 02:00, so the list follows its inputs; a source that fails or
    # never delivers does not hold the list back past 02:00 (see dags/registry_ingest.py).
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("0 2 * * *", timezone=LOCAL_TZ), assets=all_sources_landed()
    ),
    start_date=pendulum.datetime(2026, 1, 1, tz=LOCAL_TZ),
    catchup=False,
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
    def load_catalog(**context: Any) -> str:
        """Load the policy catalog (policies/*.yml) into the registry."""
        from registry.pipeline.nightly import load_rules

        skip_if_published(list_date_from_context(context))
        summary = load_rules(settings.db_path()).summary()
        log.info("%s", summary)
        return summary

    @task
    def build_models(**context: Any) -> str:
        """dbt build for the list date: on DuckDB (a subprocess) or, with the engine spark, on Spark."""
        from registry.pipeline.nightly import build_models as _build_models

        as_of = list_date_from_context(context)
        skip_if_published(as_of)
        engine = engine_from_context(context)
        log.info("building the models for list date %s on %s", as_of.isoformat(), engine)
        _build_models(as_of, settings.db_path(), engine=engine)
        return as_of.isoformat()

    # none_failed: after a night already published (the two steps above skipped), publishing
    # again returns that night's list unchanged; after a failure it does not run.
    @task(trigger_rule=TriggerRule.NONE_FAILED)
    def publish_list(**context: Any) -> dict:
        """Append the night's list to the ledger, write its CSV, return it as JSON."""
        from registry.pipeline.nightly import publish_list as _publish_list

        as_of = list_date_from_context(context)
        published = _publish_list(as_of, settings.db_path())
        log.info("%s", published.summary())
        return published.to_json_obj()

    load_catalog() >> build_models() >> publish_list()


registry_nightly()
