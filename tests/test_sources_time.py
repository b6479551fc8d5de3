"""Two time axes: a revocation that arrives late is reflected by the next list, and
`registry firm USCC --as-known-on D` shows what the registry knew on D."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from conftest import new_db

from registry.cli import main
from registry.core import settings
from registry.explain.firm import firm_timeline
from registry.explain.known import firm_as_known_on, landed_by
from registry.ingest.land import land_source
from registry.models.dbt import run_dbt
from registry.pipeline.nightly import run_nightly

pytestmark = pytest.mark.slow  # dbt builds over landed sources

S07 = "91350104MAUM67767G"  # 福州仓山博睿检测技术有限公司: 高企 2026-03-18, revoked 2026-09-01 (published 09-05)
S16 = "91350104MARENPTB7J"  # 福州仓山睿思软件有限公司: 高企 renewed 2026-03-18, revoked 2026-10-08 (published 10-12)


def _lines(db: Path, uscc: str) -> list[tuple[str, str, Decimal]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return [(str(d), k, a) for d, k, a in con.execute(
            "select list_date, kind, amount from ledger.lines where uscc = ? order by list_date", [uscc]).fetchall()]


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Firm master and 高企 list landed, list of 2026-06-01; then the revocation notice lands late and
    the list of 2026-10-15 follows. Everything through the declarative sources."""
    db = new_db(tmp_path_factory.mktemp("nights") / "registry.duckdb")
    land_source("firm_master", settings.sample("firm_master", "firm_master.json"), db)
    land_source("hitech", settings.sample("hitech", "hitech.csv"), db)
    run_nightly(dt.date(2026, 6, 1), db)
    land_source("revocations", settings.sample("revocations", "revocations.csv"), db)
    run_nightly(dt.date(2026, 10, 15), db)
    return db


def test_a_late_revocation_is_reversed_by_the_next_list(nights: Path) -> None:
    for uscc in (S07, S16):
        lines = _lines(nights, uscc)
        assert [(d, k) for d, k, _ in lines] == [("2026-06-01", "award"), ("2026-10-15", "reversal")], uscc
        award, reversal = lines[0][2], lines[1][2]
        assert award > 0 and reversal == -award
    # an unrevoked 高企 of the same list keeps its award
    assert [(d, k) for d, k, _ in _lines(nights, "91350102MAE4MK529Q")] == [("2026-06-01", "award")]


def test_firm_without_the_flag_is_the_timeline_unchanged(nights: Path, capsys) -> None:
    assert main(["--db", str(nights), "firm", S07]) == 0
    assert capsys.readouterr().out.rstrip("\n") == firm_timeline(nights, S07)


def landed_at(db: Path, *deliveries: tuple[str, str, dt.datetime]) -> Path:
    """Land (source, sample file, when in UTC) one after the other, as if each had landed at `when`:
    the samples are landed today, the stories they tell are in the past."""
    for source, name, when in deliveries:
        land_source(source, settings.sample(source, name), db)
        with duckdb.connect(str(db)) as con:
            con.execute("update raw.events set ingested_at = ? where source = ?", [when, source])
    # no night has run: build only the views `--as-known-on` reads (audit.event_knowledge, firm_standing_on)
    run_dbt(["run", "--select", "+aud_event_knowledge", "+aud_firm_standing_on"], db)
    return db


@pytest.fixture
def history(tmp_path: Path) -> Path:
    """The 高企 list landed on 2026-03-25 and the revocation notice on 2026-09-06 (Shanghai)."""
    return landed_at(new_db(tmp_path / "registry.duckdb"), ("hitech", "hitech.csv", dt.datetime(2026, 3, 25, 2)),
                     ("revocations", "revocations.csv", dt.datetime(2026, 9, 6, 1)))


def test_as_known_on_shows_what_was_published_and_landed_by_then(history: Path) -> None:
    before = firm_as_known_on(history, S07, dt.date(2026, 9, 4))
    known, later = before.split("learned later:")
    assert "hitech granted national" in known and "revoked" not in known
    assert "standing on that day: hitech/national（自 2026-03-18）" in known
    # took effect on 09-01, published 09-05, landed 09-06: learned later
    assert "生效 2026-09-01 发布 2026-09-05" in later and "获知于 2026-09-06" in later

    after = firm_as_known_on(history, S07, dt.date(2026, 9, 6))
    known, later = after.split("learned later:")
    assert "hitech revoked national" in known and "standing on that day: 无" in known
    assert "（无）" in later.split("兑付清单")[0]


def test_as_known_on_counts_landing_time_too(history: Path, capsys) -> None:
    # the certificate took effect on 03-18 with no publication date, but the list landed on 03-25
    assert main(["--db", str(history), "firm", S07, "--as-known-on", "2026-03-20"]) == 0
    known, later = capsys.readouterr().out.split("learned later:")
    assert "hitech" not in known and "获知于 2026-03-25" in later


def test_a_retraction_withdraws_the_record_it_names(tmp_path: Path) -> None:
    db = landed_at(new_db(tmp_path / "registry.duckdb"),
                   ("srdi_provincial", "srdi_provincial.xlsx", dt.datetime(2026, 5, 26, 1)),
                   ("revocations", "revocations.csv", dt.datetime(2026, 6, 11, 1)))
    s04 = "91350121MAJ2MC0R7F"  # srdi 2026-05-20 (published 05-25), retracted by a notice of 06-10
    assert "srdi_provincial/provincial" in firm_as_known_on(db, s04, dt.date(2026, 6, 1)).split("learned")[0]
    assert "standing on that day: 无" in firm_as_known_on(db, s04, dt.date(2026, 6, 30))


def test_end_of_day_is_shanghai_time() -> None:
    assert landed_by(dt.date(2026, 9, 6)) == dt.datetime(2026, 9, 6, 16, 0)


