"""What the finance office opens: XLSX (a sheet per city, totals, changes), CSV with BOM, Parquet,
the change report; all read-only, all adding up to the ledger, none naming the machine."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from audit_support import AUDITOR, FIRST, H9, SECOND, db_of
from openpyxl import load_workbook

from registry.publish import exports

pytest_plugins = ["audit_fixtures"]  # the shared history: fixtures `states`, `second`


@pytest.fixture(scope="module")
def lists(states: dict[str, Path]) -> Path:
    return db_of(states["second"]).parent / "lists"


def ledger_total(states: dict[str, Path], day) -> tuple[int, Decimal]:
    with duckdb.connect(str(db_of(states["second"])), read_only=True) as con:
        return con.execute("select line_count, total from ledger.lists where list_date = ?", [day]).fetchone()


def test_every_export_of_every_night_is_there_and_read_only(lists: Path) -> None:
    names = sorted(p.name for p in lists.iterdir())
    for day in (FIRST, SECOND):
        assert {p.name for p in exports.export_paths(lists, day).values()} <= set(names)
    assert not [n for n in names if n.startswith(".")]  # no temporary file left
    assert {p.stat().st_mode & 0o777 for p in lists.iterdir()} == {0o444}


def test_the_xlsx_has_a_sheet_per_city_totals_and_changes(lists: Path, states) -> None:
    book = load_workbook(exports.export_paths(lists, FIRST)["xlsx"], read_only=True)
    assert book.sheetnames == ["合计", "福州市", "厦门市", "变动说明"]
    header = next(book["福州市"].iter_rows(max_row=1, values_only=True))
    assert header[:4] == ("序号", "清单日期", "统一社会信用代码", "企业名称") and "本次列支金额（元）" in header
    totals = list(book["合计"].iter_rows(values_only=True))
    assert totals[0][:3] == ("所在城市", "奖励笔数", "奖励金额（元）")
    grand = next(row for row in totals if row[0] == "合计")
    count, total = ledger_total(states, FIRST)
    assert grand[1] == count and Decimal(str(grand[5])) == total
    assert any(row[0] == "台账校验值（链头）" and len(row[1]) == 64 for row in totals)


def test_the_second_night_totals_show_reversals_and_held_amounts(lists: Path, states) -> None:
    book = load_workbook(exports.export_paths(lists, SECOND)["xlsx"], read_only=True)
    (fuzhou,) = [row for row in book["合计"].iter_rows(values_only=True) if row[0] == "福州市"]
    assert fuzhou[1:6] == (1, 200000, 3, -550000, -350000)
    changes = list(book["变动说明"].iter_rows(values_only=True))
    assert {row[0] for row in changes[1:]} == {"冲销", "调减", "调增", "异议暂缓", "公示期满确认"}


def test_the_csv_opens_in_excel_and_adds_up(lists: Path, states) -> None:
    content = exports.export_paths(lists, SECOND)["csv"].read_bytes()
    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    assert ledger_total(states, SECOND) == (len(rows), sum(Decimal(r["本次列支金额（元）"]) for r in rows))
    reversal = next(r for r in rows if r["原因代码"] == "retracted")
    assert reversal["类型"] == "冲销" and reversal["原列支行号"] and reversal["可付金额（元）"] == "0.00"


def test_the_parquet_is_typed(lists: Path, states) -> None:
    with duckdb.connect() as con:
        path = str(exports.export_paths(lists, SECOND)["parquet"])
        types = dict(con.execute("select column_name, column_type from (describe select * from read_parquet(?))",
                                 [path]).fetchall())
        count, total = con.execute("select count(*), sum(amount) from read_parquet(?)", [path]).fetchone()
    assert types["amount"] == "DECIMAL(18,2)" and types["list_date"] == "DATE" and types["held"] == "BOOLEAN"
    assert (count, total) == ledger_total(states, SECOND)


def test_the_change_report_says_what_changed_and_why(lists: Path) -> None:
    text = exports.export_paths(lists, SECOND)["changes"].read_bytes().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    kinds = [r["变动类型"] for r in rows]
    assert sorted(kinds) == sorted(["冲销", "冲销", "调减", "调增", "异议暂缓", "公示期满确认"])
    (hold,) = [r for r in rows if r["变动类型"] == "异议暂缓"]
    assert hold["统一社会信用代码"] == H9 and hold["记录人"] == AUDITOR and hold["记录时间"].endswith("UTC")
    (confirmed,) = [r for r in rows if r["变动类型"] == "公示期满确认"]
    assert "异议暂缓 200000.00 元不计入" in confirmed["说明"]
    assert all(r["说明"] for r in rows)


def test_no_export_or_snapshot_names_a_path_of_the_machine(lists: Path, states) -> None:
    root = str(db_of(states["second"]).parent.parent).encode()
    for path in lists.iterdir():
        assert root not in path.read_bytes(), path.name
    with duckdb.connect(str(db_of(states["second"]).parent / "snapshot" / "registry.duckdb"), read_only=True) as con:
        stored = con.execute("select csv_name from ledger.lists").fetchall()
    assert all("/" not in name for (name,) in stored)


def test_an_export_that_does_not_add_up_is_refused(states, tmp_path: Path) -> None:
    with duckdb.connect(str(db_of(states["second"])), read_only=True) as con:
        night = exports.read_night(con, SECOND)
    exports.write_list_csv(tmp_path, night)
    exports.write_other_exports(tmp_path, night)
    exports.verify_exports(tmp_path, night)
    wrong = exports.Night(**{**night.__dict__, "lines": night.lines[:-1]})
    exports.write_list_csv(tmp_path, wrong)
    with pytest.raises(exports.ExportError, match="do not add up"):
        exports.verify_exports(tmp_path, night)
