"""Declarative sources: every spec against its bundled sample, through the function the ingest DAG
task calls (`registry.ingest.land_source`), and the specs' own checks."""

from __future__ import annotations

import io
import json
from pathlib import Path

import duckdb
import pytest
from conftest import edited_source, new_db

from registry.core import settings
from registry.ingest.errors import SpecError
from registry.ingest.land import land_source
from registry.ingest.spec import find_spec, load_spec, spec_names

# source: (read, landed, quarantined rows, duplicates) of its bundled sample, checked row by row
# against sources/list_samples.md. A spec without an entry here still gets the generic checks.
EXPECTED = {
    "srdi_provincial": (9, 6, 2, 1),
    "little_giant": (6, 5, 0, 1),
    "hitech": (8, 5, 2, 1),
    "scale_up": (7, 4, 2, 1),
    "grant_payments": (8, 6, 1, 1),
    "firm_master": (19, 16, 2, 1),
    "revocations": (5, 3, 1, 1),
    "single_champion": (6, 4, 1, 1),
}


def samples_of(source: str) -> list[Path]:
    """A source's samples (sources/<name>/samples/), each of which its `files` glob must match, as in an inbox."""
    spec = find_spec(source)
    samples = sorted(p for p in (settings.sources_dir() / source / settings.SAMPLES_FOLDER).iterdir() if p.is_file())
    unmatched = [p.name for p in samples if not Path(p.name).match(spec.files)]
    assert not unmatched, f"sources/{source}/samples: {unmatched} not matched by its files glob {spec.files!r}"
    return samples


def physical_rows(spec, path: Path) -> int:
    """The rows after the header as the publisher's tool shows them: CSV lines, sheet rows, JSON records."""
    if spec.format == "json":
        data = json.loads(path.read_text(encoding=spec.encoding))
        for part in (spec.records or "").split(".") if spec.records else []:
            data = data[part]
        return len(data)
    if spec.format == "xlsx":
        from openpyxl import load_workbook

        book = load_workbook(path)
        sheet = book[spec.sheet] if isinstance(spec.sheet, str) else book.worksheets[spec.sheet]
        header = next(n for n, cells in enumerate(sheet.iter_rows(values_only=True), start=1)
                      if spec.field("uscc") and any(str(c or "").strip() in spec.field("uscc").columns +
                                                    spec.field("uscc").aliases for c in cells))
        return sheet.max_row - header
    text = path.read_bytes().decode("utf-8-sig" if spec.encoding == "utf-8" else spec.encoding)
    return len(io.StringIO(text, newline="").readlines()) - (spec.header_row or 1)


def rows(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


@pytest.mark.parametrize("source", spec_names())
def test_every_spec_lands_its_sample_and_accounts_for_every_row(source: str, tmp_path: Path) -> None:
    samples = samples_of(source)
    assert samples, f"sources/{source}/ has no sample in samples/"
    spec = find_spec(source)
    table = f"raw.{spec.contract}"
    for sample in samples:
        db = new_db(tmp_path / f"{sample.stem}.duckdb")
        report = land_source(source, sample, db)
        # never a silently dropped row: every row read is landed, quarantined or a duplicate, and every
        # physical row after the header is read or blank
        assert report["read"] == report["landed"] + report["quarantined"] + report["duplicate"], report
        assert report["read"] + report["blank"] == physical_rows(spec, sample), report
        assert report["landed"] > 0
        # the GX suite ran in full: no expectation errored (missing column, bad kwargs)
        (gx,) = rows(db, "select gx_result from raw.loads")
        assert all(o["error"] is None for o in json.loads(gx[0])["outcomes"]), gx
        # lineage: the spec's name, the file's sha256, the row number in the original file
        lineage = rows(db, f"select distinct source, file_sha256 from {table}")  # noqa: S608
        assert lineage == [(source, report["file_sha256"])]
        assert rows(db, f"select count(*) from {table} where row_number < 1 or ingested_at is null") == [(0,)]  # noqa: S608
        quarantined = rows(db, "select row_number, field, reason from raw.quarantine")
        assert len({r for r, _, _ in quarantined}) == report["quarantined"]
        assert all(reason for _, _, reason in quarantined)
        # the same file again adds nothing
        again = land_source(source, sample, db)
        assert again["already_loaded"] and again["landed"] == 0
        assert rows(db, f"select count(*) from {table}")[0][0] == report["landed"]  # noqa: S608


@pytest.mark.parametrize("source", sorted(EXPECTED))
def test_bundled_sample_counts(source: str, tmp_path: Path) -> None:
    (sample,) = samples_of(source)
    report = land_source(source, sample, new_db(tmp_path / "r.duckdb"))
    assert (report["read"], report["landed"], report["quarantined"], report["duplicate"]) == EXPECTED[source]


def test_lineage_points_at_the_excel_row(tmp_path: Path) -> None:
    db = new_db(tmp_path / "r.duckdb")
    land_source("little_giant", settings.sample("little_giant", "little_giant.xlsx"), db)
    # title on row 1, a note on row 2, the header on row 3: the first firm is Excel row 4
    assert rows(db, "select row_number, firm_name from raw.events order by row_number")[0] == (
        4, "福州鼓楼拓维精密制造有限公司")
    # trailing U+3000 trimmed, lower-case USCC normalised
    assert rows(db, "select firm_name from raw.events where row_number = 5") == [("福州晋安海峡新材料科技有限公司",)]
    assert rows(db, "select count(*) from raw.events where uscc = upper(uscc)") == [(5,)]


def test_hitech_csv_in_gb18030_maps_actions_dates_and_certificates(tmp_path: Path) -> None:
    db = new_db(tmp_path / "r.duckdb")
    land_source("hitech", settings.sample("hitech", "hitech.csv"), db)
    landed = rows(db, "select row_number, action, effective_date::varchar, document_ref from raw.events "
                      "order by row_number")
    assert [(r, a, d) for r, a, d, _ in landed] == [
        (2, "granted", "2026-03-18"), (3, "granted", "2026-03-18"), (4, "granted", "2026-03-18"),
        (6, "renewed", "2026-03-18"), (7, "renewed", "2026-03-18")]
    assert landed[3][3] == "GR202635000104"  # full-width certificate number normalised
    reasons = dict(rows(db, "select row_number, reason from raw.quarantine"))
    assert "发证日期" in reasons[9] and "2026年2月30日" in reasons[9]
    assert "认定类型" in reasons[10] and "复审通过" in reasons[10]


def test_grant_amounts_in_wan_yuan_become_exact_yuan(tmp_path: Path) -> None:
    db = new_db(tmp_path / "r.duckdb")
    land_source("grant_payments", settings.sample("grant_payments", "grant_payments.xlsx"), db)
    amounts = {r: str(a) for r, a in rows(db, "select row_number, amount from raw.events")}
    assert amounts == {
        3: "1000000.00",  # Excel number 100 (万元)
        4: "1500000.00",  # text "150.00"
        5: "10005000.00",  # "1,000.5": thousands separator
        6: "500000.00",  # "50万元": unit typed in the cell
        7: "125000.00",  # Excel number 12.5
        10: "300000.00",
    }
    (reason,) = rows(db, "select reason from raw.quarantine where row_number = 9")[0]
    assert "约30" in reason and "拨付金额" in reason
    programs = rows(db, "select distinct event_type, level, program from raw.events order by 1, 3")
    assert programs == [("national_grant", "national", "little_giant"), ("provincial_grant", "provincial",
                                                                           "little_giant"),
                        ("provincial_grant", "provincial", "srdi_provincial")]


def test_revocation_notice_revokes_and_retracts(tmp_path: Path) -> None:
    db = new_db(tmp_path / "r.duckdb")
    land_source("revocations", settings.sample("revocations", "revocations.csv"), db)
    landed = rows(db, "select event_type, action, level, effective_date::varchar, published_date::varchar, "
                      "document_ref from raw.events order by row_number")
    assert landed == [
        ("hitech", "revoked", "national", "2026-09-01", "2026-09-05", "闽科高〔2026〕31号"),
        # 撤回 takes the date of the record it withdraws, so the models can match it
        ("srdi_provincial", "retracted", "provincial", "2026-05-20", "2026-06-10", "闽工信中小〔2026〕40号"),
        ("hitech", "revoked", "national", "2026-10-08", "2026-10-12", "闽科高〔2026〕35号"),
    ]
    assert rows(db, "select row_number, field from raw.quarantine") == [(5, "effective_date")]


def test_firm_master_json_joins_industry_code_and_quarantines_a_conflict(tmp_path: Path) -> None:
    db = new_db(tmp_path / "r.duckdb")
    land_source("firm_master", settings.sample("firm_master", "firm_master.json"), db)
    assert rows(db, "select industry_code from raw.firms where row_number = 6") == [("I6513",)]  # ６５１３
    assert rows(db, "select count(*) from raw.firms where row_number = 8") == [(1,)]  # key renamed uniscId
    problems = rows(db, "select row_number, field, reason from raw.quarantine order by row_number")
    assert [(r, f) for r, f, _ in problems] == [(19, "uscc"), (20, "uscc")]
    assert "conflicts with row 5" in problems[0][2] and "C1751 vs C3499" in problems[0][2]


# ---------------------------------------------------------------- the dry run


def test_sources_check_prints_landing_quarantine_and_gx_without_writing(tmp_path: Path, capsys) -> None:
    from registry.cli import main

    db = tmp_path / "never.duckdb"
    sample = settings.sample("srdi_provincial", "srdi_provincial.xlsx")
    code = main(["--db", str(db), "sources", "check", "srdi_provincial", str(sample)])
    out = capsys.readouterr().out
    assert code == 0 and not db.exists()
    assert "would land 6, quarantine 2, duplicate 1" in out
    assert "row 12 field effective_date: value '2026年第三批': column 批次: '2026年第三批' is not in map" in out
    assert "row 10 repeats row 9" in out
    assert "GX suite srdi_provincial:" in out


def test_sources_check_takes_a_spec_file_being_written(tmp_path: Path, capsys) -> None:
    from registry.cli import main

    spec = edited_source(tmp_path, "little_giant")  # a folder of its own
    sample = settings.sample("little_giant", "little_giant.xlsx")
    assert main(["sources", "check", str(spec), str(sample), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["would_land"] == 5 and result["duplicate_rows"] == [{"row": 10, "repeats_row": 9}]


def test_sources_list_names_every_spec(capsys) -> None:
    from registry.cli import main

    assert main(["sources", "list"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in spec_names())


# ---------------------------------------------------------------- spec errors are caught at load time


def test_a_source_without_its_suite_is_refused(tmp_path: Path) -> None:
    path = edited_source(tmp_path, "hitech")
    (path.parent / settings.SUITE_FILE).unlink()
    with pytest.raises(SpecError, match=r"no expectations\.json beside the spec"):
        load_spec(path)


def test_a_spec_named_unlike_its_folder_is_refused(tmp_path: Path) -> None:
    path = edited_source(tmp_path, "hitech", "name: hitech", "name: hitech_copy")
    with pytest.raises(SpecError, match="must equal the source's folder name"):
        load_spec(path)


@pytest.mark.parametrize(("source", "old", "new", "message"), [
    ("srdi_provincial", "event_type: srdi_provincial", "event_type: srdi_provincal", "constants.event_type"),
    ("grant_payments", "unit: 万元, ", "", "amount.unit"),
    ("revocations", "transform: revocation_notice", "transform: no_such_thing", "not registered"),
    ("hitech", "schedule:", "suite: hitech\nschedule:", r"unknown \['suite'\]"),  # the suite is the folder's
    ("hitech", "schedule: \"10 1 * * *\"", "schedule: hourly", "cron"),
    ("little_giant", "effective_date: {column: 批次, map: {第六批: 2025-07-18, 第七批: 2026-07-15}}", "",
     "effective_date"),
])
def test_a_malformed_spec_is_refused_naming_file_and_key(tmp_path: Path, source: str, old: str, new: str,
                                                           message: str) -> None:
    path = edited_source(tmp_path, source, old, new)
    with pytest.raises(SpecError, match=message) as err:
        load_spec(path)
    assert str(path) in str(err.value)
