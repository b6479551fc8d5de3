"""Fixtures over the shared history (tests/audit_support.py), loaded by the test modules that
use them with `pytest_plugins = ["audit_fixtures"]`."""

from __future__ import annotations

from pathlib import Path

import pytest
from audit_support import db_of, history


@pytest.fixture(scope="session")
def states(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The states of the history, built on first use (for tests that only read them)."""
    return history(tmp_path_factory)


@pytest.fixture(scope="session")
def second(states: dict[str, Path]) -> Path:
    """The database after night 2: read it, never write it (clone it to change it)."""
    return db_of(states["second"])
