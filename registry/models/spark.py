"""Build the models on Apache Spark (the dbt project's `spark` target) and bring them back to DuckDB.

The same dbt project, the same models: dbt-spark's `session` method runs Spark inside this process
(pyspark, `local[2]`), over the registry's Parquet lake (registry/store/lake.py), with the
warehouse and metastore in `settings.spark_dir(db)`. dbt runs in-process (dbt's programmatic
runner), not as a child: a Spark start-up costs tens of seconds and a session started once serves
every build of the process (a night, an Airflow task, the test lane). DuckDB's single-writer rule
is no reason for a child here: dbt-spark never opens the DuckDB file.

After the build, every table of Spark's `intermediate` and `marts` schemas is read back from its
Parquet files into the DuckDB database, under the same names and with the types of the models'
contracts (tables only: Spark's views are rebuilt as DuckDB views), and the DuckDB target builds
the staging, marts and audit views over them (the audit views
read the ledger, which stays in DuckDB). From there the night is the same on both engines: the
ledger appends from marts.fct_entitlements, the lists, the invariants and the snapshot.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from registry.core import settings
from registry.core.errors import RegistryError
from registry.models import dbt as duckdb_dbt
from registry.store import db as registry_db
from registry.store import lake

READ_BACK_SCHEMAS = ("intermediate", "marts")
JAVA_HINT = ("Spark needs a Java runtime (17 or 21): `apt-get install -y openjdk-17-jre-headless` "
             "(Debian/Ubuntu), or set JAVA_HOME to one")
LOG4J = Path(__file__).with_name("spark_log4j2.properties")


class SparkUnavailable(RegistryError):
    """Spark cannot start here (no Java, no pyspark)."""


class SparkBuildError(RegistryError):
    """dbt on Spark failed; the message names the failing nodes."""


@dataclass
class Timings:
    """Where a Spark build's time went (seconds), for the benchmark and docs/scaling.md."""

    lake_sync: float = 0.0
    session_start: float = 0.0
    dbt: float = 0.0
    read_back: float = 0.0
    duckdb_views: float = 0.0
    nodes: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        return (f"lake {self.lake_sync:.1f}s, Spark start {self.session_start:.1f}s, dbt on Spark {self.dbt:.1f}s "
                f"({len(self.nodes)} nodes), read back {self.read_back:.1f}s, DuckDB views {self.duckdb_views:.1f}s")


LAST = Timings()


def java() -> str:
    """The `java` Spark will start; SparkUnavailable, with how to install one, when there is none."""
    home = settings.java_home()
    candidate = home / "bin" / "java" if home else shutil.which("java")
    if not candidate or not Path(candidate).exists():
        where = f"$JAVA_HOME ({home}) has no bin/java" if home else "no `java` on the PATH"
        raise SparkUnavailable(f"the spark engine needs Java: {where}", hint=JAVA_HINT)
    return str(candidate)


def conf(spark_dir: Path) -> dict[str, str]:
    """The session's settings (dbt_project/profiles.yml, target spark, lists the same ones)."""
    return {
        "spark.master": "local[2]",
        "spark.app.name": "registry",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.shuffle.partitions": "2",
        # adaptive execution re-plans each query after its shuffles: worth it on a cluster's big
        # tables, a third of the time of this project's small local queries (measured: 34-37 s
        # against 51 s for the marts' and intermediates' data tests on the demo)
        "spark.sql.adaptive.enabled": "false",
        "spark.sql.session.timeZone": "UTC",
        # exact decimals: keep every fractional digit (DuckDB does); an overflow is null, never a rounding
        "spark.sql.decimalOperations.allowPrecisionLoss": "false",
        "spark.sql.warehouse.dir": str(spark_dir / "warehouse"),
        "spark.hadoop.javax.jdo.option.ConnectionURL":
            f"jdbc:derby:;databaseName={spark_dir / 'metastore_db'};create=true",
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={spark_dir} -Dlog4j2.configurationFile={LOG4J}",
        "spark.log.structuredLogging.enabled": "false",
        "spark.local.dir": str(spark_dir / "tmp"),
    }


def session(spark_dir: Path) -> Any:
    """The process's SparkSession, started on first use with `conf(spark_dir)`."""
    java()
    try:
        from pyspark.sql import SparkSession
    except ImportError as err:  # pragma: no cover - pyspark is a locked dependency
        raise SparkUnavailable("pyspark is not installed", hint="run `make setup`") from err
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    spark_dir.mkdir(parents=True, exist_ok=True)
    (spark_dir / "tmp").mkdir(exist_ok=True)
    started = time.monotonic()
    builder = SparkSession.builder
    for key, value in conf(spark_dir).items():
        builder = builder.config(key, value)
    try:
        spark = builder.enableHiveSupport().getOrCreate()
    except Exception as err:
        raise SparkUnavailable(f"Spark did not start: {str(err).splitlines()[0][:300]}", hint=JAVA_HINT) from err
    spark.sparkContext.setLogLevel("ERROR")
    LAST.session_start = time.monotonic() - started
    return spark


def warehouse_of(spark: Any) -> Path:
    return Path(spark.conf.get("spark.sql.warehouse.dir").removeprefix("file:"))


def _dbt(args: list[str], db: Path, variables: dict[str, Any]) -> None:
    from dbt.cli.main import dbtRunner

    settings.set_for_in_process_dbt(**{settings.SPARK_DIR_ENV: str(settings.spark_dir(db)),
                                       settings.DB_ENV_VAR: str(db)})
    command = [*args, "--target", "spark", "--project-dir", str(settings.DBT_PROJECT_DIR),
               "--profiles-dir", str(settings.DBT_PROJECT_DIR), "--target-path", str(db.parent / "dbt_target_spark"),
               "--log-path", str(db.parent / "dbt_logs_spark"), "--log-level", "none", "--log-level-file", "info",
               "--vars", json.dumps(variables)]
    result = dbtRunner().invoke(command)
    failures = []
    for node in getattr(result.result, "results", None) or []:
        LAST.nodes[node.node.unique_id] = float(node.execution_time or 0.0)
        if str(node.status) in ("error", "fail"):
            failures.append(f"  {node.node.unique_id}: {str(node.message or '').strip()[:400]}")
    if not result.success:
        detail = "\n".join(failures) or f"  {result.exception}"
        raise SparkBuildError(f"dbt {' '.join(args)} failed on Spark for {db}:\n{detail}\n"
                              f"(full log: {db.parent / 'dbt_logs_spark' / 'dbt.log'})",
                              hint="the same project builds on DuckDB: `--engine duckdb` publishes tonight's list")


def build(db: Path, as_of: dt.date, changed_since: dict | None = None, full_refresh: bool = False,
          data_tests: bool = True) -> Timings:
    """The models for `as_of` on Spark, read back into `db`; returns where the time went."""
    global LAST
    LAST = Timings()
    started = time.monotonic()
    lake_root = settings.lake_dir(db)
    with registry_db.connect(db) as con:
        lake.sync(con, lake_root)
    LAST.lake_sync = time.monotonic() - started
    spark_root = settings.spark_dir(db)
    spark = session(spark_root)
    if warehouse_of(spark) != spark_root / "warehouse":
        # this process's session serves another database's warehouse: its incremental state is not ours
        full_refresh = True
    started = time.monotonic()
    variables: dict[str, Any] = {"as_of_date": as_of.isoformat(), "lake_dir": str(lake_root)}
    if changed_since is not None and not full_refresh:
        variables["changed_since"] = changed_since
    args = ["build", "--exclude-resource-type", "unit_test"] if data_tests else ["run"]
    _dbt(args + (["--full-refresh"] if full_refresh else []), db, variables)
    LAST.dbt = time.monotonic() - started
    started = time.monotonic()
    read_back(spark, db)
    LAST.read_back = time.monotonic() - started
    started = time.monotonic()
    duckdb_dbt.run_dbt(["build", "--select", "path:models/staging,resource_type:model", "path:models/audit+",
                        "path:models/marts,config.materialized:view", "--exclude-resource-type", "unit_test"],
                       db, as_of)
    LAST.duckdb_views = time.monotonic() - started
    return LAST


def _duckdb_type(spark_type: str) -> str:
    kind = spark_type.lower()
    return {"string": "varchar", "int": "integer", "bigint": "bigint", "boolean": "boolean", "date": "date",
            "double": "double", "float": "float", "timestamp": "timestamp", "timestamp_ntz": "timestamp",
            "smallint": "smallint", "tinyint": "tinyint"}.get(kind, kind)


def read_back(spark: Any, db: Path) -> list[str]:
    """Replace the DuckDB tables of intermediate/marts with Spark's, read from their Parquet files."""
    copied = []
    with registry_db.connect(db) as con:
        con.execute("begin transaction")
        for schema in READ_BACK_SCHEMAS:
            con.execute(f"create schema if not exists {schema}")
            # views are not data: DuckDB builds its own over the tables read back (build, below)
            views = {row["viewName"] for row in spark.sql(f"show views in {schema}").collect()}
            for row in spark.sql(f"show tables in {schema}").collect():
                name = row["tableName"]
                if row["isTemporary"] or "__dbt" in name or name in views:
                    continue
                frame = spark.table(f"{schema}.{name}")
                files = sorted(frame.inputFiles())
                types = [(f.name, _duckdb_type(f.dataType.simpleString())) for f in frame.schema.fields]
                if files:
                    columns = ", ".join(f'cast("{name}" as {kind}) as "{name}"' for name, kind in types)
                    source = f"read_parquet({[f.removeprefix('file:') for f in files]!r})"
                else:  # an empty table may have no file at all
                    columns = "*"
                    source = "(select " + ", ".join(f'cast(null as {kind}) as "{name}"' for name, kind in types) + \
                             ") as empty where false"
                kind = con.execute("select table_type from information_schema.tables where table_schema = ? "
                                   "and table_name = ?", [schema, name]).fetchone()
                if kind is not None and kind[0] == "VIEW":
                    con.execute(f"drop view {schema}.{name}")
                # names come from Spark's catalog of the models, files from Spark itself
                con.execute(f"create or replace table {schema}.{name} as select {columns} from {source}")  # noqa: S608
                copied.append(f"{schema}.{name}")
        con.execute("commit")
    return copied
