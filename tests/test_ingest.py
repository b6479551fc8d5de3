"""Ingestion of the plain `events` and `firms` sources: lineage, quarantine, idempotence."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from conftest import EVENT_HEADER, new_db

from registry.core import settings
from registry.core.uscc import make_uscc
from registry.ingest.land import IngestError, ingest_file

GOOD = make_uscc("350102", 4242)


def event(**fields: str) -> dict[str, str]:
    row = {"uscc": GOOD, "firm_name": "福州测试有限公司", "event_type": "hitech", "action": "granted",
           "level": "national", "effective_date": "2026-03-18"}
    row.update(fields)
    return row


def rows(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_sample_bad_file_quarantines_bad_rows_and_lands_the_rest(tmp_path: Path) -> None:
    db = new_db(tmp_path / "r.duckdb")
    report = ingest_file("events", settings.sample("events", "events_bad.csv"), db)
    assert (report.read, report.landed, report.quarantined, report.duplicate) == (9, 4, 5, 0)
    quarantined = rows(db, "select row_number, field, reason from raw.quarantine order by row_number")
    assert [(r, f) for r, f, _ in quarantined] == [
        (3, "uscc"), (4, "event_type"), (6, "effective_date"), (7, "action"), (9, "amount")]
    bad_uscc_reason = quarantined[0][2]
    assert "91350203M0001QAY9B" in bad_uscc_reason and "position 18" in bad_uscc_reason
    assert "'9'" in bad_uscc_reason  # the check character it should have been
    # the full-width, space-padded USCC on row 8 is normalised and lands
    assert rows(db, "select uscc from raw.events where row_number = 8") == [("91350102MAQRA71RX0",)]


def test_every_landed_row_keeps_its_lineage(tmp_path: Path) -> None:
    db = new_db(tmp_path / "r.duckdb")
    report = ingest_file("events", settings.sample("events", "events.csv"), db)
    lineage = rows(db, "select distinct source, file_sha256 from raw.events")
    assert lineage == [("events", report.file_sha256)]
    numbers = rows(db, "select min(row_number), max(row_number), count(*) from raw.events")
    assert numbers == [(2, report.read + 1, report.read)]
    assert rows(db, "select count(*) from raw.events where ingested_at is null") == [(0,)]


def test_same_file_twice_adds_nothing(tmp_path: Path) -> None:
    db = new_db(tmp_path / "r.duckdb")
    first = ingest_file("events", settings.sample("events", "events.csv"), db)
    second = ingest_file("events", settings.sample("events", "events.csv"), db)
    assert first.landed == 76 and second.landed == 0
    assert second.already_loaded and second.duplicate == second.read
    assert rows(db, "select count(*) from raw.events") == [(76,)]
    assert rows(db, "select count(*) from raw.loads") == [(1,)]


def test_a_file_loaded_before_is_not_read_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An operator re-running an ingest: the load is recognised by its bytes before the file is read,
    and the report gives the first load's count (a 5M-row file is not checked again to add nothing)."""
    from registry.ingest import land

    db = new_db(tmp_path / "r.duckdb")
    first = ingest_file("events", settings.sample("events", "events.csv"), db)

    def no_second_read(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the file was read again")

    monkeypatch.setattr(land, "prepare", no_second_read)
    second = ingest_file("events", settings.sample("events", "events.csv"), db)
    assert second.already_loaded and (second.read, second.duplicate, second.landed) == (first.read, first.read, 0)
    assert second.file_sha256 == first.file_sha256
    assert "GX not rerun" in second.gx_summary and "loaded before" in second.summary()


def test_the_database_is_free_for_readers_while_a_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The file is read and checked with the registry database closed: during a long read, another
    process (an operator's `registry firm`, a report) can open it."""
    import subprocess
    import sys

    from registry.ingest import land

    db = new_db(tmp_path / "r.duckdb")
    opened: list[int] = []
    prepare = land.prepare

    def prepare_while_another_process_reads(*args: object, **kwargs: object) -> land.Prepared:
        done = subprocess.run([sys.executable, "-c", "import duckdb, sys; duckdb.connect(sys.argv[1], read_only=True)"
                               ".execute('select count(*) from raw.loads').fetchone()", str(db)],
                              capture_output=True, text=True, timeout=60)
        opened.append(done.returncode)
        return prepare(*args, **kwargs)

    monkeypatch.setattr(land, "prepare", prepare_while_another_process_reads)
    assert ingest_file("events", settings.sample("events", "events.csv"), db).landed == 76
    assert opened == [0]


@pytest.mark.parametrize(("limit", "started"), [(10**9, True), (0, False)])
def test_gx_imports_beside_the_read_of_small_files_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        limit: int, started: bool) -> None:
    """A night's small delivery imports GX while DuckDB reads it; a file above the limit does not,
    so GX's memory is not held beside DuckDB's tables of a big file. Both land the same way."""
    from registry.ingest import land, validation

    calls: list[bool] = []
    monkeypatch.setattr(land, "BACKGROUND_GX_IMPORT_BYTES", limit)
    monkeypatch.setattr(validation, "import_in_background", lambda: calls.append(True))
    report = ingest_file("events", settings.sample("events", "events.csv"), new_db(tmp_path / "r.duckdb"))
    assert report.landed == 76 and report.gx_success is not None
    assert calls == ([True] if started else [])


def test_same_fact_in_another_file_or_twice_in_one_is_a_duplicate(tmp_path: Path, write_csv) -> None:
    db = new_db(tmp_path / "r.duckdb")
    a = write_csv("a.csv", EVENT_HEADER, [event(), event(), event(effective_date="2026-04-01")])
    b = write_csv("b.csv", EVENT_HEADER, [event(firm_name="改名后的名称"), event(action="renewed")])
    report_a = ingest_file("events", a, db)
    report_b = ingest_file("events", b, db)
    assert (report_a.landed, report_a.duplicate) == (2, 1)
    assert (report_b.landed, report_b.duplicate) == (1, 1)


def test_gx_result_is_stored_and_failures_reported(tmp_path: Path) -> None:
    db = new_db(tmp_path / "r.duckdb")
    report = ingest_file("events", settings.sample("events", "events_bad.csv"), db)
    assert report.gx_success is False
    assert "event_type" in report.gx_summary
    stored = rows(db, "select gx_success, gx_summary, gx_result is not null, gx_docs from raw.loads")
    assert stored == [(False, report.gx_summary, True, Path(report.gx_docs).relative_to(tmp_path).as_posix())]


def test_gx_names_the_source_rows_the_quarantine_names_and_keeps_its_result(tmp_path: Path) -> None:
    """GX's own stores (file context beside the database) hold the suite and the result, Data Docs
    render it, and a failed expectation names the row of the file, as the quarantine does."""
    db = new_db(tmp_path / "r.duckdb")
    report = ingest_file("events", settings.sample("events", "events_bad.csv"), db)
    ((raw_result,),) = rows(db, "select gx_result from raw.loads")
    outcomes = {(o["column"], o["expectation"]): o for o in json.loads(raw_result)["outcomes"]}
    quarantined = {field: row for row, field in rows(db, "select row_number, field from raw.quarantine")}
    for column in ("event_type", "action", "amount"):
        (failed,) = [o for (c, _), o in outcomes.items() if c == column and not o["success"]]
        assert failed["unexpected_rows"] == [quarantined[column]], (column, failed)
        assert f"row {quarantined[column]}" in report.gx_summary
    gx_dir = tmp_path / "gx"
    assert (gx_dir / "great_expectations.yml").is_file()
    suite = json.loads((gx_dir / "expectations" / "events.json").read_text(encoding="utf-8"))
    assert suite["name"] == "events" and len(suite["expectations"]) == 17  # GX's own format, from our spec
    stored_results = list((gx_dir / "uncommitted" / "validations").rglob("*.json"))
    assert len(stored_results) == 1
    page = Path(report.gx_docs)
    assert page.is_file() and page.is_relative_to(gx_dir / "uncommitted" / "data_docs" / "local_site")
    html = page.read_text(encoding="utf-8")
    assert "hitec" in html and "100万" in html


def test_missing_required_column_names_it(tmp_path: Path, write_csv) -> None:
    path = write_csv("no_action.csv", [h for h in EVENT_HEADER if h != "action"], [])
    with pytest.raises(IngestError, match=r"no_action\.csv: header lacks required column\(s\) action"):
        ingest_file("events", path, new_db(tmp_path / "r.duckdb"))


def test_wrong_encoding_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "gbk.csv"
    path.write_bytes((",".join(EVENT_HEADER) + "\n").encode() + "福州,x\n".encode("gb18030"))
    with pytest.raises(IngestError, match=r"gbk\.csv: line 2 is not UTF-8"):
        ingest_file("events", path, new_db(tmp_path / "r.duckdb"))


def test_empty_file_is_refused_with_reason(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(IngestError, match="the file is empty"):
        ingest_file("events", path, new_db(tmp_path / "r.duckdb"))


def test_grant_without_amount_is_quarantined(tmp_path: Path, write_csv) -> None:
    db = new_db(tmp_path / "r.duckdb")
    path = write_csv("g.csv", EVENT_HEADER, [event(event_type="provincial_grant", level="provincial",
                                                   program="little_giant")])
    report = ingest_file("events", path, db)
    assert report.quarantined == 1
    assert rows(db, "select field from raw.quarantine") == [("amount",)]


def test_amounts_are_exact_decimals(tmp_path: Path, write_csv) -> None:
    db = new_db(tmp_path / "r.duckdb")
    path = write_csv("g.csv", EVENT_HEADER, [
        event(event_type="provincial_grant", level="provincial", program="little_giant", amount="1234567.89"),
        event(event_type="provincial_grant", level="provincial", program="x", amount="0.125"),
    ])
    report = ingest_file("events", path, db)
    assert report.landed == 1 and report.quarantined == 1
    assert str(rows(db, "select amount from raw.events")[0][0]) == "1234567.89"


def test_firms_land_and_bad_industry_code_is_quarantined(tmp_path: Path, write_csv) -> None:
    db = new_db(tmp_path / "r.duckdb")
    path = write_csv("f.csv", ["uscc", "firm_name", "division_code", "industry_code", "registered_date"], [
        {"uscc": GOOD, "firm_name": "甲", "division_code": "350102", "industry_code": "C3461"},
        {"uscc": make_uscc("350104", 7), "firm_name": "乙", "division_code": "350104", "industry_code": "制造业"},
    ])
    report = ingest_file("firms", path, db)
    assert (report.landed, report.quarantined) == (1, 1)
    assert rows(db, "select field from raw.quarantine") == [("industry_code",)]


def test_unknown_source_is_refused(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="unknown source 'grants'"):
        ingest_file("grants", settings.sample("events", "events.csv"), new_db(tmp_path / "r.duckdb"))
