"""Airflow Assets of the sources: each ingest DAG publishes one; the nightly DAG waits on all of them.

Named from the spec file names alone (no YAML is parsed), so a spec that is broken still has its
asset: its DAG never updates it, and the nightly falls back to its cron time instead of waiting.
Imports airflow.sdk inside the function: the registry package does not need Airflow.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from registry.ingest.spec import asset_name, asset_uri, spec_names


def source_asset(name: str) -> Any:
    from airflow.sdk import Asset

    return Asset(name=asset_name(name), uri=asset_uri(name))


def source_assets(folder: Path | None = None) -> list[Any]:
    """One Asset per spec file in sources/ (or `folder`), in name order."""
    return [source_asset(name) for name in spec_names(folder)]


def all_sources_landed(folder: Path | None = None) -> Any:
    """AssetAll over every source: satisfied once each source has landed since the last nightly run."""
    from airflow.sdk import AssetAll

    return AssetAll(*source_assets(folder))
