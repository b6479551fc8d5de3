"""Bad input to the declarative sources: a clear error naming the file (and line, row or column),
or a quarantined row with its reason; never a crash, never a silently dropped row."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from conftest import new_db
from openpyxl import Workbook

from registry.core import settings
from registry.core.contracts import parse_yuan
from registry.ingest.errors import RowProblem
from registry.ingest.land import IngestError, land_source
from registry.ingest.values import to_amount, to_date, to_month

HITECH_HEADER = "序号,企业名称,统一社会信用代码,证书编号,发证日期,认定类型"
GOOD_ROW = "1,福州鼓楼智谷信息技术有限公司,91350102MAE4MK529Q,GR202635000101,2026年3月18日,认定"


def quarantine(db: Path) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("select row_number, field, reason from raw.quarantine order by row_number").fetchall()


def write(tmp_path: Path, name: str, text: str, encoding: str = "gb18030") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def accounted(report: dict, path: Path, encoding: str = "gb18030", header_line: int = 1) -> bool:
    """Every physical row is accounted for: read = landed + quarantined + duplicates, and the rows
    read plus the blank ones are every line after the header, counted as a text editor counts them."""
    lines = io.StringIO(path.read_bytes().decode(encoding), newline="").readlines()[header_line:]
    blank = sum(1 for line in lines if not line.strip().strip(',"'))
    return (report["read"] == report["landed"] + report["quarantined"] + report["duplicate"]
            and report["read"] + report["blank"] == len(lines) and report["blank"] == blank)


# ---------------------------------------------------------------- encodings


def test_utf8_file_for_a_gb18030_source_is_refused_with_the_fix(tmp_path: Path) -> None:
    path = write(tmp_path, "hitech_utf8.csv", f"{HITECH_HEADER}\n{GOOD_ROW}\n", "utf-8")
    with pytest.raises(IngestError, match=r"hitech_utf8\.csv: the file is UTF-8, but .*hitech/source\.yml declares "
                                          r"encoding gb18030"):
        land_source("hitech", path, new_db(tmp_path / "r.duckdb"))


def test_gb18030_file_for_a_utf8_source_names_the_line(tmp_path: Path) -> None:
    text = (settings.sample("scale_up", "scale_up.csv")).read_bytes().decode("utf-8-sig")
    path = write(tmp_path, "scale_up_gb.csv", text, "gb18030")
    with pytest.raises(IngestError, match=r"scale_up_gb\.csv: line 1 is not UTF-8 .*reads as GB18030"):
        land_source("scale_up", path, new_db(tmp_path / "r.duckdb"))


# ---------------------------------------------------------------- header


def test_missing_required_column_names_column_and_field(tmp_path: Path) -> None:
    path = write(tmp_path, "hitech_no_date.csv", "序号,企业名称,统一社会信用代码,证书编号,认定类型\n1,甲,x,GR1,认定\n")
    with pytest.raises(IngestError, match=r"hitech_no_date\.csv: header lacks required column\(s\) "
                                          r"发证日期 \(effective_date\)"):
        land_source("hitech", path, new_db(tmp_path / "r.duckdb"))


def test_renamed_header_without_alias_points_at_the_closest_column(tmp_path: Path) -> None:
    path = write(tmp_path, "hitech_renamed.csv", HITECH_HEADER.replace("统一社会信用代码", "统一信用代码") + "\n")
    with pytest.raises(IngestError, match=r"统一社会信用代码 \(uscc\) \[closest in the file: '统一信用代码': "
                                          r"a renamed header\? add it to `aliases`\]"):
        land_source("hitech", path, new_db(tmp_path / "r.duckdb"))


def test_merged_title_where_the_header_should_be_says_which_row_to_use(tmp_path: Path) -> None:
    # grant_payments declares header_row: 2; this delivery has a second title line, so the header is on row 3
    book = Workbook()
    sheet = book.active
    sheet.title = "拨付明细"
    header = ["序号", "企业名称", "统一社会信用代码", "项目名称", "资金级别", "拨付金额（万元）", "拨付日期", "文号"]
    sheet.append(["2026年奖补资金拨付明细表"])
    sheet.append(["（第二批）"])
    sheet.merge_cells("A1:H1")
    sheet.merge_cells("A2:H2")
    sheet.append(header)
    path = tmp_path / "grant_payments_moved.xlsx"
    book.save(path)
    with pytest.raises(IngestError, match=r"grant_payments_moved\.xlsx sheet '拨付明细': header \(row 2\) lacks "
                                          r".*row 3 holds them: set `header_row: 3`.*merged title cell \(A2:H2\)"):
        land_source("grant_payments", path, new_db(tmp_path / "r.duckdb"))


# ---------------------------------------------------------------- empty and truncated files


@pytest.mark.parametrize(("source", "name"), [("hitech", "hitech.csv"), ("little_giant", "little_giant.xlsx"),
                                              ("firm_master", "firm_master.json")])
def test_empty_file_is_refused(tmp_path: Path, source: str, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"")
    with pytest.raises(IngestError, match=re.escape(f"{path}: the file is empty")):
        land_source(source, path, new_db(tmp_path / "r.duckdb"))


def test_csv_cut_mid_row_quarantines_the_short_row(tmp_path: Path) -> None:
    raw = (settings.sample("hitech", "hitech.csv")).read_bytes()
    cut = raw[: raw.index(b"GR202635000102") + 4]  # the file ends inside row 3
    path = tmp_path / "hitech_cut.csv"
    path.write_bytes(cut)
    db = new_db(tmp_path / "r.duckdb")
    report = land_source("hitech", path, db)
    assert accounted(report, path) and (report["landed"], report["quarantined"]) == (1, 1)
    assert quarantine(db) == [(3, "_row", "row ends after 4 of 6 columns (truncated row?)")]


def test_gb18030_cut_mid_character_is_a_clear_error(tmp_path: Path) -> None:
    raw = (settings.sample("hitech", "hitech.csv")).read_bytes()
    path = tmp_path / "hitech_cut.csv"
    path.write_bytes(raw[: raw.index("福州仓山".encode("gb18030")) + 1])
    with pytest.raises(IngestError, match=r"hitech_cut\.csv: line 3: the file ends in the middle of a GB18030 "
                                          "character: it looks truncated"):
        land_source("hitech", path, new_db(tmp_path / "r.duckdb"))


def test_truncated_xlsx_is_a_clear_error(tmp_path: Path) -> None:
    raw = (settings.sample("little_giant", "little_giant.xlsx")).read_bytes()
    path = tmp_path / "little_giant_cut.xlsx"
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(IngestError, match=r"little_giant_cut\.xlsx: not a readable XLSX workbook .*truncated"):
        land_source("little_giant", path, new_db(tmp_path / "r.duckdb"))


def test_truncated_json_names_line_and_column(tmp_path: Path) -> None:
    text = (settings.sample("firm_master", "firm_master.json")).read_text(encoding="utf-8")
    path = tmp_path / "firm_master_cut.json"
    path.write_text(text[: len(text) // 2], encoding="utf-8")
    with pytest.raises(IngestError, match=r"firm_master_cut\.json: line \d+, column \d+: not valid JSON"):
        land_source("firm_master", path, new_db(tmp_path / "r.duckdb"))


def test_row_with_an_extra_cell_is_quarantined_not_shifted(tmp_path: Path) -> None:
    bad = "2,福州仓山博睿检测技术有限公司,分公司,91350104MAUM67767G,GR202635000102,2026/3/18,认定"
    path = write(tmp_path, "hitech_shifted.csv", f"{HITECH_HEADER}\n{GOOD_ROW}\n{bad}\n")
    db = new_db(tmp_path / "r.duckdb")
    report = land_source("hitech", path, db)
    assert accounted(report, path) and report["landed"] == 1
    ((row, field, reason),) = quarantine(db)
    assert (row, field) == (3, "_row") and "7 cells but the header has 6" in reason


def test_a_blank_line_is_not_a_row_and_numbers_stay_those_of_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "hitech_blank.csv", f"{HITECH_HEADER}\n\n,,,,,\n{GOOD_ROW}\n")
    db = new_db(tmp_path / "r.duckdb")
    report = land_source("hitech", path, db)
    assert (report["read"], report["landed"]) == (1, 1) and accounted(report, path)
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select row_number from raw.events").fetchall() == [(4,)]


# ---------------------------------------------------------------- values


@pytest.mark.parametrize(("cell", "unit", "units", "yuan"), [
    ("12.5", "万元", ("万元",), "125000.00"),
    (12.5, "万元", ("万元",), "125000.00"),
    (100, "万元", ("万元",), "1000000.00"),
    ("50万元", "万元", ("万元", "万"), "500000.00"),
    ("12.5万", "万元", ("万元", "万"), "125000.00"),
    ("１２．５ 万元", "万元", ("万元",), "125000.00"),  # full-width
    ("1,000.5", "万元", ("万元",), "10005000.00"),
    ("1,250,000元", "元", ("元", "万元"), "1250000.00"),
    ("1，250，000.00 元", "元", ("元",), "1250000.00"),
    ("¥12.5万", "万元", ("万元", "万"), "125000.00"),
    ("0.01", "万元", ("万元",), "100.00"),
])
def test_amounts_become_exact_yuan(cell: object, unit: str, units: tuple[str, ...], yuan: str) -> None:
    text = to_amount(cell, unit, units, (",", "，"))
    assert text is not None and parse_yuan(text) == Decimal(yuan)


@pytest.mark.parametrize(("cell", "thousands", "units", "reason"), [
    ("约30", (",",), ("万元",), "not an amount"),
    ("12.5亿", (",",), ("万元",), "unit '亿' is not one this source declares"),
    ("1,250", (), ("万元",), "does not declare as a thousands separator"),
    ("1,25,0", (",",), ("万元",), "misplaced thousands separators"),
])
def test_amounts_that_cannot_be_read_say_why(cell: str, thousands: tuple[str, ...], units: tuple[str, ...],
                                             reason: str) -> None:
    with pytest.raises(RowProblem, match=reason):
        to_amount(cell, "万元", units, thousands)


def test_too_fine_an_amount_is_refused_by_the_contract_not_rounded() -> None:
    text = to_amount("12.3456789", "万元", ("万元",), ())
    with pytest.raises(ValueError, match="more than two decimal places"):
        parse_yuan(text or "")


@pytest.mark.parametrize("cell", [
    "2026-03-15", "2026/3/15", "2026.3.15", "2026年3月15日", "2026 年 3 月 15 日", "２０２６年３月１５日", "20260315",
    "2026-03-15 00:00:00", dt.datetime(2026, 3, 15), dt.date(2026, 3, 15),
    (dt.date(2026, 3, 15) - dt.date(1899, 12, 30)).days,  # an Excel serial number in a cell not formatted as date
])
def test_dates_in_the_forms_lists_use(cell: object) -> None:
    assert to_date(cell) == "2026-03-15"


@pytest.mark.parametrize(("cell", "reason"), [
    ("2026年2月30日", "not a calendar date"), ("2026/13/1", "not a calendar date"), ("3月15日", "not a date"),
    ("2026-3/15", "not a date"),
])
def test_dates_that_cannot_be_read_say_why(cell: str, reason: str) -> None:
    with pytest.raises(RowProblem, match=reason):
        to_date(cell)


def test_month_only_dates_take_the_declared_day() -> None:
    assert to_month("2026年2月", "last") == "2026-02-28"
    assert to_month("2026-03", "first") == "2026-03-01"
    assert to_month(dt.datetime(2026, 6, 1), "last") == "2026-06-30"


def test_a_bad_value_in_every_kind_of_column_is_quarantined_with_row_and_column(tmp_path: Path) -> None:
    rows = [
        GOOD_ROW,
        "2,乙,91350104MAUM67767G,GR202635000102,2026年13月1日,认定",  # bad date
        "3,丙,91350103MAA6MT9A95,GR202635000103,2026/3/18,审核中",  # unmapped value
        "4,丁,91350103MAA6MT9A9X,GR202635000104,2026/3/18,认定",  # bad check character
        "5,戊,,GR202635000105,2026/3/18,认定",  # missing USCC
    ]
    path = write(tmp_path, "hitech_bad.csv", HITECH_HEADER + "\n" + "\n".join(rows) + "\n")
    db = new_db(tmp_path / "r.duckdb")
    report = land_source("hitech", path, db)
    assert accounted(report, path) and (report["landed"], report["quarantined"]) == (1, 4)
    got = quarantine(db)
    assert [(r, f) for r, f, _ in got] == [(3, "effective_date"), (4, "action"), (5, "uscc"), (6, "uscc")]
    assert got[0][2].startswith("column 发证日期:") and got[1][2].startswith("column 认定类型:")
    assert got[3][2] == "column 统一社会信用代码: missing required value"
    with duckdb.connect(str(db), read_only=True) as con:
        raw_row = con.execute("select raw_row from raw.quarantine where row_number = 3").fetchone()[0]
    assert json.loads(raw_row)["发证日期"] == "2026年13月1日"  # the auditor sees the original cells
