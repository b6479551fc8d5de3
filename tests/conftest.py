"""Shared fixtures: a registry database built from the bundled samples, once per test run."""

from __future__ import annotations

import csv
import fcntl
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from registry.core import settings

settings.quiet_third_party()

EVENT_HEADER = [
    "uscc", "firm_name", "event_type", "action", "level", "effective_date", "published_date", "document_ref",
    "program", "amount", "fiscal_year", "revenue", "profit", "wages",
]
FIRM_HEADER = ["uscc", "firm_name", "division_code", "industry_code", "registered_date"]
DEMO_DATE = settings.DEMO_DATE
# The clock of the test suite ($REGISTRY_TODAY, design.md: "the one way tests set the clock"): every
# night the tests replay (2026-05 to 2026-11-01, the demo's 2026-11-01) is in its past, whatever the
# machine's clock says. Tests of other clocks set their own (policy cases: 2030-12-31).
TODAY = "2026-12-01"


# The order tests run in: the longest modules first, then the e2e and slow ones, then the rest, so
# that the workers of `make test` (pytest-xdist, one module per worker at a time: --dist loadfile,
# in this order: --no-loadscope-reorder) end together rather than one waiting for the last long
# module. Within a group, file order.
_RUN_ORDER = ("longest", "e2e", "slow")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        return next((n for n, marker in enumerate(_RUN_ORDER) if item.get_closest_marker(marker)), len(_RUN_ORDER))

    items.sort(key=rank)  # stable: file and definition order within each rank


def built_once(factory: pytest.TempPathFactory, name: str, build: Callable[[Path], object]) -> Path:
    """A folder `build(folder)` filled once per test run, by whichever worker asks first (the others
    wait for it, then share it): the fixtures every worker reads, built once rather than per worker.
    Under pytest-xdist the workers' temporary folders share a parent; a lock there serialises the
    build, and a marker says it finished (a failed build is retried by the next to ask)."""
    root = factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    folder, done = root / f"built-{name}", root / f"built-{name}.done"
    with (root / f"built-{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            build(folder)
            done.touch()
    return folder


def new_db(path: Path) -> Path:
    """An empty registry database at `path`, as `registry init` makes it (the one way one is created)."""
    from registry.pipeline.setup import init_database

    return init_database(path)


def edited_source(folder: Path, source: str, old: str = "", new: str = "") -> Path:
    """A copy of the bundled source's folder (spec, suite, samples) under `folder`, its spec with `old`
    replaced by `new` (which must be there); returns the spec's path."""
    import shutil

    copy = folder / source
    shutil.copytree(settings.DEFAULT_SOURCES_DIR / source, copy)
    path = copy / settings.SPEC_FILE
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {settings.DEFAULT_SOURCES_DIR / source / settings.SPEC_FILE}"
    path.write_text(text.replace(old, new, 1) if old else text, encoding="utf-8")
    return path


@pytest.fixture(scope="session", autouse=True)
def _clock() -> object:
    """Set the clock for the whole session, before any session or module fixture builds a night
    (child processes, dbt and Airflow inherit it)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(settings.TODAY_ENV, TODAY)
        patch.delenv(settings.FUTURE_DAYS_ENV, raising=False)
        yield


@pytest.fixture(autouse=True)
def _no_output_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(settings.OUTPUT_ENV_VAR, raising=False)


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo pipeline (samples landed, list for 2026-11-01 published), built once per run and
    read by every worker: read it, never write it (copy it to change it)."""
    from audit_support import clean_environment

    from registry.pipeline.demo import run_demo

    def build(folder: Path) -> None:
        with clean_environment():  # whichever test asks first, its environment does not leak in
            run_demo(folder / "registry.duckdb", DEMO_DATE)

    return built_once(tmp_path_factory, "demo", build) / "registry.duckdb"


@pytest.fixture
def query(demo_db: Path) -> Callable[..., list[tuple]]:
    def run(sql: str, params: list | None = None) -> list[tuple]:
        with duckdb.connect(str(demo_db), read_only=True) as con:
            return con.execute(sql, params or []).fetchall()

    return run


@pytest.fixture
def write_csv(tmp_path: Path) -> Callable[..., Path]:
    """Write rows (dicts) as a CSV with the given header; missing fields are empty."""

    def write(name: str, header: list[str], rows: list[dict[str, str]]) -> Path:
        path = tmp_path / name
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=header)
            writer.writeheader()
            writer.writerows(rows)
        return path

    return write
