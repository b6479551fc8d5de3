"""Where things live. One place for every path and environment setting."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
POLICY_DIR = REPO_ROOT / "policies"
EXPECTATIONS_DIR = REPO_ROOT / "expectations"
SAMPLE_DIR = REPO_ROOT / "sample_data"

DB_ENV_VAR = "REGISTRY_DB"
DEFAULT_DB = REPO_ROOT / "var" / "registry.duckdb"
OUTPUT_ENV_VAR = "REGISTRY_OUTPUT"


def db_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The DuckDB file: `--db`, else $REGISTRY_DB, else var/registry.duckdb in the repo."""
    chosen = explicit or os.environ.get(DB_ENV_VAR) or DEFAULT_DB
    return Path(chosen).resolve()


def output_dir(db: Path) -> Path:
    """Published lists go beside the database unless $REGISTRY_OUTPUT says otherwise."""
    chosen = os.environ.get(OUTPUT_ENV_VAR)
    return Path(chosen).resolve() if chosen else db.parent / "lists"


def quiet_third_party() -> None:
    """No telemetry, no analytics, no internet: set before dbt, GX or Airflow import."""
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")

DEMO_DB = REPO_ROOT / "var" / "demo" / "registry.duckdb"
