"""A two-night history over the samples, built once per test session and shared by the ledger,
crash, audit, export and explain tests (each test clones the state it needs, or only reads it).

Night 1 (2026-09-30) lists the samples. Then an auditor holds one award (异议), and a file of
corrections lands: a 高企 record retracted by its source (H1), a 高企 revoked (H2), L2's provincial
award corrected from 150万 to 120万 (its 50% match drops 75万 -> 60万) and a second provincial
award for L1 (its match rises 50万 -> 70万). Night 2 (2026-11-01) lists what that changes.

States (folders holding registry.duckdb, lists/ and snapshot/):
  after_first    night 1 published
  before_second  + the hold and the corrections (models still of night 1)
  built_second   + catalog loaded and models built for night 2
  second         + night 2 published (the reference for the crash tests)
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import hashlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb

from registry.core import settings
from registry.pipeline.demo import SAMPLE_FILES

FIRST, SECOND = dt.date(2026, 9, 30), dt.date(2026, 11, 1)
H1, H2, H9 = "91350111MAYN538H50", "91350102MATK274B31", "91350112MAGK4EQD6H"
L1, L2 = "91350112MAL6KEXG9M", "91350103MAG3GJRA14"
AUDITOR = "审计员张三"
HOLD_REASON = "异议：公示期间收到实名反映，高企资格待核实"
EVENT_HEADER = ["uscc", "firm_name", "event_type", "action", "level", "effective_date", "published_date",
                "document_ref", "program", "amount", "fiscal_year", "revenue", "profit", "wages"]
CORRECTIONS = [
    [H1, "福州晋安新材料研究院有限公司", "hitech", "retracted", "national", "2026-03-18", "2026-10-08",
     "闽科高〔2026〕29号（撤回误发记录）", "", "", "", "", "", ""],
    [H2, "福州鼓楼云帆软件有限公司", "hitech", "revoked", "national", "2026-10-15", "2026-10-20", "闽科高〔2026〕31号",
     "", "", "", "", "", ""],
    [L2, "福州台江芯源微电子设计有限公司", "provincial_grant", "retracted", "provincial", "2026-09-25", "2026-10-15",
     "闽财企〔2026〕38号（更正）", "little_giant", "1500000.00", "", "", "", ""],
    [L2, "福州台江芯源微电子设计有限公司", "provincial_grant", "granted", "provincial", "2026-10-10", "2026-10-15",
     "闽财企〔2026〕38号", "little_giant", "1200000.00", "", "", "", ""],
    [L1, "福建长乐锂能电池有限公司", "provincial_grant", "granted", "provincial", "2026-10-20", "2026-10-22",
     "闽财企〔2026〕41号", "little_giant", "400000.00", "", "", "", ""],
]
STATES = ("after_first", "before_second", "built_second", "second")
ENV_KEYS = ("REGISTRY_OUTPUT", "REGISTRY_SNAPSHOT_DIR", "REGISTRY_NOTICE_DAYS", "REGISTRY_ACTOR",
            "REGISTRY_TEST_CRASH_AT")
_built: dict[str, Path] = {}


@contextlib.contextmanager
def clean_environment() -> Iterator[None]:
    saved = {k: os.environ.pop(k) for k in ENV_KEYS if k in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


def db_of(state: Path) -> Path:
    return state / "registry.duckdb"


def clone(state: Path, to: Path) -> Path:
    """A private copy of a state (database, lists, snapshot); returns the database path."""
    shutil.copytree(state, to, symlinks=True, ignore=shutil.ignore_patterns("dbt_target", "dbt_logs"))
    return db_of(to)


def _freeze(work: Path, root: Path, name: str) -> None:
    shutil.copytree(work, root / name, symlinks=True, ignore=shutil.ignore_patterns("dbt_target", "dbt_logs"))


def write_corrections(folder: Path) -> Path:
    path = folder / "corrections.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(EVENT_HEADER)
        writer.writerows(CORRECTIONS)
    return path


def history(root_factory) -> dict[str, Path]:
    """The states, built once per test run whichever worker asks first (root_factory: pytest's
    tmp_path_factory; conftest.built_once)."""
    if not _built:
        from conftest import built_once

        root = built_once(root_factory, "history", _build_history)
        _built.update({name: root / name for name in STATES})
    return dict(_built)


def _build_history(root: Path) -> None:
    from registry.ingest.land import ingest_file
    from registry.ledger import holds
    from registry.pipeline import nightly
    from registry.pipeline.setup import init_database

    work = root / "work"
    db = db_of(work)
    with clean_environment():
        init_database(db)
        for source, name in SAMPLE_FILES:
            ingest_file(source, settings.sample(source, name), db)
        nightly.run_nightly(FIRST, db)
        _freeze(work, root, "after_first")
        holds.record(db, entitlement_of(db, H9), "hold", HOLD_REASON, AUDITOR)
        ingest_file("events", write_corrections(root), db)
        _freeze(work, root, "before_second")
        nightly.load_rules(db)
        nightly.build_models(SECOND, db)
        _freeze(work, root, "built_second")
        nightly.publish_list(SECOND, db)
        _freeze(work, root, "second")


def entitlement_of(db: Path, uscc: str, clause_prefix: str = "") -> str:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("select distinct entitlement_id from ledger.lines where uscc = ? and clause_id like ? "
                           "order by 1", [uscc, clause_prefix + "%"]).fetchall()
    assert len(rows) == 1, rows
    return rows[0][0]


def lines_of(db: Path, list_date: dt.date) -> dict[str, list[tuple]]:
    """uscc -> [(clause_id, kind, amount, reason_code)] of one night."""
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("select uscc, clause_id, kind, amount, reason_code from ledger.lines where list_date = ? "
                           "order by uscc, clause_id", [list_date]).fetchall()
    out: dict[str, list[tuple]] = {}
    for uscc, clause, kind, amount, code in rows:
        out.setdefault(uscc, []).append((clause, kind, f"{amount:.2f}", code))
    return out


# What must come out identical from any run of a night: the ledger without its wall-clock
# columns, every export file byte for byte (with its permissions), and the snapshot's ledger.
LEDGER_QUERIES = {
    "lists": "select * exclude (published_at) from ledger.lists order by list_date",
    "entitlements": "select * from ledger.entitlements order by entitlement_id",
    "lines": "select * exclude (listed_at) from ledger.lines order by seq",
    "line_facts": "select * from ledger.line_facts order by all",
    "clause_versions": "select * from ledger.clause_versions order by rule_version",
    "confirmations": "select * from ledger.confirmations order by list_date",
    "holds": "select * from ledger.holds order by hold_seq",
}


def ledger_content(db: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {name: con.execute(sql).fetchall() for name, sql in LEDGER_QUERIES.items()}


def export_files(db: Path) -> dict[str, tuple[str, int]]:
    folder = db.parent / "lists"
    return {p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mode & 0o777)
            for p in sorted(folder.iterdir())}


def outcome(db: Path) -> dict[str, object]:
    snap = db.parent / "snapshot" / db.name
    return {"ledger": ledger_content(db), "exports": export_files(db),
            "snapshot": (ledger_content(snap), snap.stat().st_mode & 0o777) if snap.exists() else None,
            "snapshot_dir": sorted(p.name for p in snap.parent.iterdir()) if snap.parent.exists() else None}

