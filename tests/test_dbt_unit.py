"""The dbt unit tests (tier, spells, conditions, amounts, stacking, caps, budgets) run here once,
rather than in every nightly build."""

from __future__ import annotations

from pathlib import Path

import pytest

from registry.models.dbt import run_dbt, unit_tests

pytestmark = pytest.mark.slow  # dbt's unit tests

def test_dbt_unit_tests_pass(demo_db: Path, tmp_path: Path) -> None:
    import shutil

    db = tmp_path / "registry.duckdb"
    shutil.copy(demo_db, db)
    output = unit_tests(db)
    assert "ERROR=0" in output and "PASS=" in output
    listed = run_dbt(["ls", "--resource-type", "unit_test", "--output", "name"], db)
    assert len([line for line in listed.splitlines() if line.strip() and " " not in line.strip()]) >= 20
