"""SQL owns every rule; Python only reads its results (the layer rule of docs/architecture.md).

* No shipped module reads dbt's `staging` or `intermediate` schemas: what the ledger, explain and
  `firm --as-known-on` need comes from marts and audit models built once.
* `registry firm USCC --as-known-on D` agrees with what the list of night D was built from: the
  records it lists as known on D are exactly the records night D's models stood on, also when a file
  lands late (after a night) with records published before it.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import duckdb
import pytest
from conftest import EVENT_HEADER, FIRM_HEADER, new_db

from registry.cli import main
from registry.core import settings
from registry.core.settings import REPO_ROOT
from registry.explain.known import firm_as_known_on
from registry.ingest.land import ingest_file
from registry.pipeline.nightly import run_nightly

pytestmark = pytest.mark.slow  # nights built with dbt

A, B = "91350102MA5JYYF90E", "91350104MA1FW3B3X5"  # sample firms (C3461 in 鼓楼, M7320 in 仓山)
NIGHT_1, NIGHT_2 = dt.date(2026, 6, 15), dt.date(2026, 9, 30)
FIRST = [  # landed before night 1
    {"uscc": A, "event_type": "srdi_provincial", "action": "granted", "level": "provincial",
     "effective_date": "2026-05-20", "published_date": "2026-05-25", "document_ref": "闽工信〔2026〕1号"},
    {"uscc": A, "event_type": "tech_center", "action": "granted", "level": "municipal",
     "effective_date": "2026-08-01", "published_date": "2026-08-05", "document_ref": "榕工信〔2026〕9号"},
    {"uscc": B, "event_type": "hitech", "action": "granted", "level": "national",
     "effective_date": "2026-04-08", "published_date": "2026-04-20"},
]
LATE = [  # published before night 1, but the file lands only after it
    {"uscc": A, "event_type": "tech_center", "action": "granted", "level": "provincial",
     "effective_date": "2026-05-02", "published_date": "2026-05-10", "document_ref": "闽发改高技〔2026〕3号"},
]


def _write(path: Path, header: list[str], rows: list[dict[str, str]]) -> Path:
    lines = [",".join(header)] + [",".join(row.get(h, "") for h in header) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _stood_on(db: Path) -> set[str]:
    """The records the models of the night just built stood on: in force, or withdrawn by a retraction."""
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("select event_id from intermediate.int_events_in_force "
                           "union select event_id from intermediate.int_event_retractions").fetchall()
    return {r for (r,) in rows}


def _known_on(db: Path, day: dt.date) -> set[str]:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("select event_id from audit.event_knowledge where known_on <= ? and effective_date <= ? "
                           "and action <> 'retracted'", [day, day]).fetchall()
    return {r for (r,) in rows}


@pytest.fixture(scope="module")
def two_nights(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[dt.date, set[str]]]:
    folder = tmp_path_factory.mktemp("known")
    db = new_db(folder / "registry.duckdb")
    firms = [r for r in settings.sample("firms", "firms.csv").read_text(encoding="utf-8").splitlines()[1:]
             if r.startswith((A, B))]
    (folder / "firms.csv").write_text(",".join(FIRM_HEADER) + "\n" + "\n".join(firms) + "\n", encoding="utf-8")
    ingest_file("firms", folder / "firms.csv", db)
    ingest_file("events", _write(folder / "first.csv", EVENT_HEADER, FIRST), db)
    stood = {}
    run_nightly(NIGHT_1, db)
    stood[NIGHT_1] = _stood_on(db)
    ingest_file("events", _write(folder / "late.csv", EVENT_HEADER, LATE), db)
    run_nightly(NIGHT_2, db)
    stood[NIGHT_2] = _stood_on(db)
    return db, stood


def test_python_never_reads_staging_or_intermediate() -> None:
    offenders = []
    for folder in ("registry", "dags"):
        for path in sorted((REPO_ROOT / folder).rglob("*.py")):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                if re.search(r"\b(staging|intermediate)\.[a-z_]+", line):
                    offenders.append(f"{path.relative_to(REPO_ROOT)}:{number}: {line.strip()}")
    assert not offenders, "Python reads raw/reference/policy/ledger/marts/audit only:\n" + "\n".join(offenders)


@pytest.mark.parametrize("night", [NIGHT_1, NIGHT_2])
def test_known_on_a_night_is_what_that_night_was_built_from(two_nights, night: dt.date) -> None:
    db, stood = two_nights
    assert _known_on(db, night) == stood[night]


def test_a_firm_listed_on_a_night_is_known_that_night_and_a_late_file_is_learned_later(two_nights, capsys) -> None:
    db, _ = two_nights
    assert main(["--db", str(db), "firm", A, "--as-known-on", NIGHT_1.isoformat()]) == 0
    known, later = capsys.readouterr().out.split("learned later:")
    # the 省级专精特新 paid on night 1 is known that night, and the firm held it
    assert "srdi_provincial granted provincial" in known
    assert "standing on that day: srdi_provincial/provincial（自 2026-05-20）" in known
    assert "2026-06-15 奖励 100000.00 元 fz-2026-5.a5.1.srdi-industrial" in later
    # the provincial 技术中心 was published on 05-10 but its file landed after night 1: night 2 learned it
    assert "tech_center granted provincial" not in known
    assert "生效 2026-05-02 发布 2026-05-10" in later and f"获知于 {NIGHT_2}" in later

    text = firm_as_known_on(db, A, NIGHT_2)
    known, later = text.split("learned later:")
    assert "tech_center granted provincial" in known and "tech_center granted municipal" in known


def test_retraction_matching_has_one_definition_the_models_and_ingest_share() -> None:
    """Ingest tells a correction from a conflict, and reports a retraction that withdraws nothing, with
    the models' own rule (macros/rules/retraction_withdraws.sql rendered), never a copy of it."""
    from registry.ingest.land import _retraction_matches

    rendered = _retraction_matches("r", "e")
    assert "r.effective_date = e.effective_date" in rendered and "r.amount is null or" in rendered
    rule = re.compile(r"coalesce\(\w+\.level, ''\) = coalesce\(\w+\.level, ''\)")
    copies = [str(path.relative_to(REPO_ROOT)) for path in (REPO_ROOT / "registry").rglob("*.py")
              if rule.search(path.read_text(encoding="utf-8"))]
    assert copies == [], f"retraction matching written again in Python: {copies}"
