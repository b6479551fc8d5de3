"""Every setting in one place: paths, $REGISTRY_* variables, the time zone, the clock, the demo date.

No other module reads the environment (a test greps for it): they call the functions here. Every
variable is listed in `VARIABLES` with what it does; the README's table of settings is checked
against it by a test.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
from pathlib import Path
from zoneinfo import ZoneInfo

from registry.core.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
POLICY_DIR = REPO_ROOT / "policies"
DEFAULT_SOURCES_DIR = REPO_ROOT / "sources"
# A source is one folder, sources/<name>/: its spec, its Great Expectations suite and its samples
# (files named as the publisher delivers them: the spec's `files` glob matches them in an inbox).
SPEC_FILE = "source.yml"
SUITE_FILE = "expectations.json"
SAMPLES_FOLDER = "samples"

TIME_ZONE = ZoneInfo("Asia/Shanghai")  # list dates, 公示 days and "landed by the end of day D" are Shanghai days
DEMO_DATE = dt.date(2026, 11, 1)

DB_ENV_VAR = "REGISTRY_DB"
OUTPUT_ENV_VAR = "REGISTRY_OUTPUT"
SNAPSHOT_ENV = "REGISTRY_SNAPSHOT_DIR"
SOURCES_DIR_ENV = "REGISTRY_SOURCES_DIR"
INBOX_ENV_VAR = "REGISTRY_INBOX"
NOTICE_DAYS_ENV = "REGISTRY_NOTICE_DAYS"
ACTOR_ENV = "REGISTRY_ACTOR"
TODAY_ENV = "REGISTRY_TODAY"
FUTURE_DAYS_ENV = "REGISTRY_FUTURE_DAYS"
CRASH_ENV = "REGISTRY_TEST_CRASH_AT"
ENGINE_ENV = "REGISTRY_ENGINE"
SPARK_DIR_ENV = "REGISTRY_SPARK_DIR"
JAVA_HOME_ENV = "JAVA_HOME"

DUCKDB, SPARK = "duckdb", "spark"
ENGINES = (DUCKDB, SPARK)  # where the nightly builds the models (docs/scaling.md)

DEFAULT_DB = REPO_ROOT / "var" / "registry.duckdb"
DEMO_DB = REPO_ROOT / "var" / "demo" / "registry.duckdb"
DEFAULT_NOTICE_DAYS = 7
DEFAULT_FUTURE_DAYS = 1  # a list may be prepared the evening before its date, no earlier
EARLIEST_LIST_DATE = dt.date(2020, 1, 1)  # no 免申即享 list of this registry predates it

VARIABLES: dict[str, str] = {  # name -> what it does (README, "Settings")
    DB_ENV_VAR: f"the registry database (default {DEFAULT_DB.relative_to(REPO_ROOT)}); `--db` wins",
    OUTPUT_ENV_VAR: "where the lists are written (default: `lists/` beside the database)",
    SNAPSHOT_ENV: "where the auditors' snapshot is published (default: `snapshot/` beside the database)",
    SOURCES_DIR_ENV: "the folder of sources, one folder each with its spec, GX suite and samples (default: "
                     "`sources/` in the repository)",
    INBOX_ENV_VAR: "the folder the ingest DAGs scan for deliveries",
    NOTICE_DAYS_ENV: f"days a published list stays in 公示 before it is confirmed (default {DEFAULT_NOTICE_DAYS})",
    ACTOR_ENV: "who records a hold or release (default: the login name)",
    TODAY_ENV: "the clock, YYYY-MM-DD, for tests, backfills and replays (default: the system clock, Shanghai)",
    FUTURE_DAYS_ENV: f"how many days after today a list date may be (default {DEFAULT_FUTURE_DAYS}); a later one "
                     "is refused before any build",
    ENGINE_ENV: "where the night builds the models: `duckdb` (default) or `spark` (Apache Spark, local[2]); "
                "`--engine` wins",
    SPARK_DIR_ENV: "the Spark warehouse and metastore (default: `spark/` beside the database)",
}


def _env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def db_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The DuckDB file: `--db`, else $REGISTRY_DB, else var/registry.duckdb in the repo."""
    chosen = explicit or _env(DB_ENV_VAR) or DEFAULT_DB
    return Path(chosen).resolve()


def output_dir(db: Path) -> Path:
    """Published lists go beside the database unless $REGISTRY_OUTPUT says otherwise."""
    chosen = _env(OUTPUT_ENV_VAR)
    return Path(chosen).resolve() if chosen else db.parent / "lists"


def snapshot_dir(db: Path) -> Path:
    """The auditors' snapshot folder: $REGISTRY_SNAPSHOT_DIR, else `snapshot/` beside the database."""
    chosen = _env(SNAPSHOT_ENV)
    return Path(chosen).resolve() if chosen else db.parent / "snapshot"


def gx_project_dir(db: Path) -> Path:
    """Where the Great Expectations context of a database lives: `gx/` in the folder beside it
    (var/gx/ for var/registry.duckdb): suites, stored validation results, Data Docs."""
    return db.parent


def sources_dir() -> Path:
    """Where the source folders live: $REGISTRY_SOURCES_DIR, else `sources/` in the repository."""
    chosen = _env(SOURCES_DIR_ENV)
    return Path(chosen).resolve() if chosen else DEFAULT_SOURCES_DIR


def sample(source: str, name: str) -> Path:
    """A bundled sample: sources/<source>/samples/<name> in the repository (the demo's, the tests')."""
    return DEFAULT_SOURCES_DIR / source / SAMPLES_FOLDER / name


def bundled_samples() -> list[Path]:
    """Every bundled sample, in source order (what the demo inbox holds)."""
    return sorted(p for p in DEFAULT_SOURCES_DIR.glob(f"*/{SAMPLES_FOLDER}/*") if p.is_file())


def engine(explicit: str | None = None) -> str:
    """Where the models are built: `--engine`, else $REGISTRY_ENGINE, else duckdb."""
    chosen = (explicit or _env(ENGINE_ENV) or DUCKDB).strip().lower()
    if chosen not in ENGINES:
        raise ConfigError(f"unknown engine {chosen!r}", hint=f"use one of: {', '.join(ENGINES)}")
    return chosen


def lake_dir(db: Path) -> Path:
    """The Parquet copy of raw/reference/policy that the Spark build reads: `lake/` beside the database."""
    return db.parent / "lake"


def spark_dir(db: Path) -> Path:
    """Spark's warehouse and metastore: $REGISTRY_SPARK_DIR, else `spark/` beside the database."""
    chosen = _env(SPARK_DIR_ENV)
    return Path(chosen).resolve() if chosen else db.parent / "spark"


def java_home() -> Path | None:
    """$JAVA_HOME when set (Spark's JVM); None means `java` on the PATH."""
    chosen = _env(JAVA_HOME_ENV)
    return Path(chosen) if chosen else None


def set_for_in_process_dbt(**values: str) -> None:
    """dbt run in this process (the Spark target) reads its profile's env_var()s from here."""
    quiet_third_party()
    os.environ.update(values)


def inbox_dir() -> Path | None:
    """The folder the ingest DAGs scan: $REGISTRY_INBOX; None when it is not set."""
    chosen = _env(INBOX_ENV_VAR)
    return Path(chosen).resolve() if chosen else None


def notice_days() -> int:
    """Days of 公示 for a list published tonight ($REGISTRY_NOTICE_DAYS, default 7)."""
    text = _env(NOTICE_DAYS_ENV)
    if text is None:
        return DEFAULT_NOTICE_DAYS
    if not text.isdigit():
        raise ConfigError(f"${NOTICE_DAYS_ENV} must be a whole number of days, not {text!r}",
                          hint=f"unset it for the default of {DEFAULT_NOTICE_DAYS} days")
    return int(text)


def future_days() -> int:
    """Days after today a list date may be ($REGISTRY_FUTURE_DAYS, default 1)."""
    text = _env(FUTURE_DAYS_ENV)
    if text is None:
        return DEFAULT_FUTURE_DAYS
    if not text.isdigit() or int(text) > 366:
        raise ConfigError(f"${FUTURE_DAYS_ENV} must be a whole number of days from 0 to 366, not {text!r}",
                          hint=f"unset it for the default of {DEFAULT_FUTURE_DAYS} day")
    return int(text)


def actor(explicit: str | None = None) -> str:
    """Who records a hold or release: --by, else $REGISTRY_ACTOR, else the login name ('' when none)."""
    try:
        login = getpass.getuser()
    except OSError:
        login = ""
    return (explicit or _env(ACTOR_ENV) or login or "").strip()


def today() -> dt.date:
    """Today in Shanghai, or $REGISTRY_TODAY when set (the one way to move the clock)."""
    text = _env(TODAY_ENV)
    if text is None:
        return dt.datetime.now(TIME_ZONE).date()
    try:
        return dt.date.fromisoformat(text)
    except ValueError as err:
        raise ConfigError(f"${TODAY_ENV} must be a date YYYY-MM-DD, not {text!r}") from err


def crash_point() -> str | None:
    """The crash point the crash-safety test asks for; only ever set under pytest."""
    if os.environ.get("PYTEST_CURRENT_TEST"):
        return _env(CRASH_ENV)
    return None


def child_env(**overrides: str) -> dict[str, str]:
    """The environment for a child process (dbt): ours, the no-telemetry settings, and `overrides`."""
    quiet_third_party()
    return {**os.environ, **overrides}


def quiet_third_party() -> None:
    """No telemetry, no analytics, no internet: set before dbt, GX or Airflow import."""
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
