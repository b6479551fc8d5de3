"""Operator slips never end the ledger or pay wrong: a typo'd list date is refused before any
build, 公示 is confirmed by the clock, a correction is a reversal plus the new award, a reversed
entitlement cannot be held, the auditors' snapshot is never written, a missing database is an
error. Each night runs on a copy of the demo (the list of 2026-11-01 published)."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import json
import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from conftest import EVENT_HEADER

from registry.cli import main
from registry.core import settings
from registry.ingest.land import ingest_file
from registry.ledger.holds import record
from registry.ledger.schema import LedgerError
from registry.pipeline.nightly import ListDateRefused, run_nightly

pytestmark = pytest.mark.slow  # nights built with dbt

X = "91350102MA7WATGX4K"  # 福州鼓楼华光电子: a 省级研发投入奖补 (rd_investment) triggers a 100% match, at most 300万
L1 = "91350112MAL6KEXG9M"  # 小巨人 2026-07-15; provincial award 100万 (events.csv line 73): its match is 50%
RD = {"uscc": X, "firm_name": "福州鼓楼华光电子有限公司", "event_type": "provincial_grant", "action": "granted",
      "level": "provincial", "effective_date": "2026-10-20", "published_date": "2026-10-25",
      "document_ref": "闽科资〔2026〕研发12号", "program": "rd_investment", "amount": "1000000.00"}
L1_GRANT = {"uscc": L1, "firm_name": "福建长乐锂能电池有限公司", "event_type": "provincial_grant", "action": "granted",
            "level": "provincial", "effective_date": "2026-09-10", "published_date": "2026-09-12",
            "document_ref": "闽财企〔2026〕31号", "program": "little_giant", "amount": "1000000.00"}
RD_CLAUSE = "fz-ps-2025.1.2.rd-investment-match"
MATCH_CLAUSE = "fz-2026-5.a5.1.little-giant-match"


def copy_demo(demo_db: Path, to: Path) -> Path:
    to.mkdir(parents=True)
    db = to / "registry.duckdb"
    shutil.copy(demo_db, db)
    shutil.copytree(settings.output_dir(demo_db), settings.output_dir(db))
    return db


def rows(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def cli(*args: str) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(list(args))
    return code, err.getvalue()


def nightly_json(db: Path, day: str) -> dict:
    """`registry nightly --date DAY --json`, as an operator runs it."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["--db", str(db), "nightly", "--date", day, "--json"]) == 0
    return json.loads(out.getvalue())


def lines_of(db: Path, night: dict, uscc: str) -> list[tuple[str, str, str, str]]:
    """A firm's lines on the published list (--json), with the ledger's reason code of each."""
    reasons = dict(rows(db, "select entitlement_id, reason_code from ledger.lines where list_date = ?",
                        [night["date"]]))
    return sorted((line["clause_id"], line["kind"], line["amount"], reasons[line["entitlement_id"]])
                  for line in night["lines"] if line["uscc"] == uscc)


def write(path: Path, events: list[dict[str, str]]) -> Path:
    import csv

    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=EVENT_HEADER)
        writer.writeheader()
        writer.writerows(events)
    return path


@pytest.fixture(scope="module")
def corrected(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Slips first (refused), then a re-delivery with another amount (a conflict), night 11-02, then
    the corrections (retraction + new fact) and night 11-03."""
    folder = tmp_path_factory.mktemp("corrected")
    db = copy_demo(demo_db, folder / "state")
    out: dict = {"db": db}
    state = "select (select count(*) from ledger.model_builds), (select count(*) from ledger.lists)"
    before = rows(db, state)
    out["refusals"] = {}
    for slip in ("2062-11-15", "9999-12-31", "2026-10-01"):
        code, err = cli("--db", str(db), "nightly", "--date", slip)
        out["refusals"][slip] = (code, err)
    out["unchanged"] = before == rows(db, state)
    first = ingest_file("events", write(folder / "events_1102.csv", [RD, {**L1_GRANT, "amount": "1200000.00"}]), db)
    out["first"] = first
    out["quarantine"] = rows(db, "select row_number, field, reason from raw.quarantine where file_name = ?",
                             ["events_1102.csv"])
    out["1102"] = nightly_json(db, "2026-11-02")
    correction = [
        {**RD, "action": "retracted", "published_date": "2026-11-02", "document_ref": "闽科资〔2026〕研发12号（更正）"},
        {**RD, "amount": "1200000.00", "published_date": "2026-11-02"},
        {**L1_GRANT, "action": "retracted", "published_date": "2026-11-02",
         "document_ref": "闽财企〔2026〕31号（更正）"},
        {**L1_GRANT, "amount": "1200000.00", "published_date": "2026-11-02"},
    ]
    out["second"] = ingest_file("events", write(folder / "events_1103.csv", correction), db)
    out["1103"] = nightly_json(db, "2026-11-03")
    return out


def test_a_typo_list_date_is_refused_before_any_build(corrected: dict) -> None:
    refusals = corrected["refusals"]
    assert refusals["2062-11-15"][0] == 2
    assert "list date 2062-11-15 is 13133 days after today (2026-12-01)" in refusals["2062-11-15"][1]
    assert refusals["9999-12-31"][0] == 2 and "Traceback" not in refusals["9999-12-31"][1]
    assert "list date 2026-10-01 is before 2026-11-01, the last night published" in refusals["2026-10-01"][1]
    assert corrected["unchanged"]  # no build recorded, no list published
    assert corrected["1102"]["date"] == "2026-11-02"  # and the real nights still publish


def test_a_redelivery_with_another_amount_is_quarantined_and_lists_nothing(corrected: dict) -> None:
    first = corrected["first"]
    assert (first.landed, first.quarantined) == (1, 1)
    ((row, field, reason),) = corrected["quarantine"]
    assert (row, field) == (3, "amount") and "events.csv row 73" in reason
    db = corrected["db"]
    assert lines_of(db, corrected["1102"], L1) == []  # before: +600,000 (50% of 100万 + 120万)
    assert lines_of(db, corrected["1102"], X) == [(RD_CLAUSE, "award", "1000000.00", "new")]


def test_a_correction_lists_the_reversal_and_the_new_award(corrected: dict) -> None:
    second = corrected["second"]
    assert (second.landed, second.quarantined) == (4, 0)
    db = corrected["db"]
    got = lines_of(db, corrected["1103"], X)
    assert got == [(RD_CLAUSE, "award", "1200000.00", "new"), (RD_CLAUSE, "reversal", "-1000000.00", "retracted")]
    # a correction of the grant a percentage matches changes the match by the difference: 50% of 120万
    assert lines_of(db, corrected["1103"], L1) == [(MATCH_CLAUSE, "award", "100000.00", "raised")]
    net = rows(corrected["db"], "select sum(amount) from ledger.lines where uscc = ? and clause_id = ?",
               [L1, MATCH_CLAUSE])
    assert net == [(Decimal("600000.00"),)]


def test_holding_a_reversed_entitlement_is_refused(corrected: dict) -> None:
    db = corrected["db"]
    (reversed_id,) = [line["entitlement_id"] for line in corrected["1103"]["lines"]
                      if line["uscc"] == X and line["kind"] == "reversal"]
    with pytest.raises(LedgerError, match=r"nets 0\.00 yuan on the lists"):
        record(db, reversed_id, "hold", "异议", "张三")
    code, err = cli("--db", str(db), "hold", reversed_id, "--reason", "异议", "--by", "张三")
    assert code == 2 and "nothing to hold" in err
    assert rows(db, "select count(*) from ledger.holds") == [(0,)]


def test_the_auditors_snapshot_is_never_written(corrected: dict) -> None:
    db = corrected["db"]
    snapshot = settings.snapshot_dir(db) / db.name
    digest = hashlib.sha256(snapshot.read_bytes()).hexdigest()
    (award,) = [line["entitlement_id"] for line in corrected["1103"]["lines"]
                if line["uscc"] == X and line["kind"] == "award"]
    for args in (("hold", award, "--reason", "异议", "--by", "张三"), ("nightly", "--date", "2026-11-04"),
                 ("ingest", "events", str(settings.sample("events", "events.csv")))):
        code, err = cli("--db", str(snapshot), *args)
        assert code == 2 and "is the auditors' snapshot: the registry never writes it" in err, err
        assert f"e.g. {db}" in err
    assert hashlib.sha256(snapshot.read_bytes()).hexdigest() == digest
    assert not snapshot.with_name(snapshot.name + ".lock").exists()


def test_a_read_only_copy_is_refused_even_as_root(corrected: dict, tmp_path: Path) -> None:
    copy = tmp_path / "copy.duckdb"
    shutil.copy(corrected["db"], copy)
    copy.chmod(0o444)
    code, err = cli("--db", str(copy), "nightly", "--date", "2026-11-04")
    assert code == 2 and "a read-only file (mode 0444" in err


@pytest.mark.parametrize("command", [("nightly", "--date", "2026-11-02"), ("ingest", "events", "x.csv"),
                                     ("hold", "e", "--reason", "r", "--by", "me"), ("verify",), ("firm", X)])
def test_a_missing_database_is_an_error_and_nothing_is_created(tmp_path: Path, command: tuple[str, ...]) -> None:
    db = tmp_path / "typo" / "registry.duckdb"
    code, err = cli("--db", str(db), *command)
    assert code == 2 and f"no registry database at {db}" in err and "registry --db PATH init" in err
    assert not db.parent.exists()


def test_init_creates_the_database_and_refuses_to_overwrite(tmp_path: Path) -> None:
    db = tmp_path / "new" / "registry.duckdb"
    assert cli("--db", str(db), "init")[0] == 0 and db.exists()
    code, err = cli("--db", str(db), "init")
    assert code == 2 and "already exists" in err


def test_a_database_named_like_a_schema_is_refused_before_it_is_made(tmp_path: Path) -> None:
    db = tmp_path / "reference.duckdb"  # DuckDB would name the catalog `reference`, like the schema
    code, err = cli("--db", str(db), "init")
    assert code == 2 and "cannot be called reference.duckdb" in err and "Traceback" not in err
    assert not db.exists()


@pytest.fixture(scope="module")
def notice(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The list of 2026-11-01 is in 公示 until 2026-11-08. A night dated 11-09 run on 11-07 (a
    margin of 3 days) must not confirm it; the night of 11-10, run on 11-10, does."""
    db = copy_demo(demo_db, tmp_path_factory.mktemp("notice") / "state")
    out: dict = {"db": db}
    with pytest.MonkeyPatch.context() as clock:
        clock.setenv(settings.FUTURE_DAYS_ENV, "3")
        clock.setenv(settings.TODAY_ENV, "2026-11-07")
        run_nightly(dt.date(2026, 11, 9), db)
        out["early"] = rows(db, "select list_date, confirmed_on from ledger.confirmations")
        out["verify_early"] = cli("--db", str(db), "verify")
        with pytest.raises(ListDateRefused, match="11 days after today"):
            run_nightly(dt.date(2026, 11, 18), db)
        clock.setenv(settings.TODAY_ENV, "2026-11-10")
        run_nightly(dt.date(2026, 11, 10), db)
        out["due"] = rows(db, "select list_date, confirmed_on from ledger.confirmations")
        out["verify_due"] = cli("--db", str(db), "verify")
    return out


def test_notice_is_confirmed_only_when_its_days_have_passed_by_the_clock(notice: dict) -> None:
    assert notice["early"] == []  # before: confirmed by the night dated 11-09, a day before its notice ended
    assert notice["due"] == [(dt.date(2026, 11, 1), dt.date(2026, 11, 10))]
    assert notice["verify_early"][0] == 0 and notice["verify_due"][0] == 0
