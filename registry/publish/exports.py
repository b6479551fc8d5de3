"""The published list as files a finance office opens, written once per night and never edited.

For night D, in the output folder (beside the database in `lists/`, or $REGISTRY_OUTPUT):
  免申即享兑付清单_D.csv      the list, UTF-8 with BOM (Excel shows the Chinese); codes as codes
  免申即享兑付清单_D.xlsx     合计 (formulas over the city sheets: in force / draft, fixed / planned at a
                              cap, held), one sheet per city, 变动说明; print-ready (registry.publish.workbook);
                              every code in Chinese: 原因代码 shows its Chinese term (the CSV keeps the code)
  免申即享兑付清单_D.parquet  the list lines, typed (decimal yuan, dates), for data tools
  清单变动报告_D.csv          what is new, raised, lowered, reversed, held, released, confirmed, and why
  报告_D.html, index.html     the night as a page of charts (registry.publish.page), and the nights

Every file is a pure function of what the ledger (and raw loads, reference tables) held when D was
published: no clock, no path of the machine inside. The nightly run renders them in memory inside
the ledger transaction, before it commits (`render` + `check_rendered`), so a text no file can hold
fails the night before anything is published; after the commit each is written to a temporary
file, made read-only (0444), renamed into place and read back (`verify_exports`). A rerun of D
rewrites a file that is missing or differs, and leaves an identical one alone.

Which cells are numbers: the columns say so (`LIST_COLUMNS`, `CHANGE_COLUMNS`), never the content.
Numeric columns (序号, amounts) are written from int/Decimal values only; text columns are
neutralised against formula injection in CSV (registry.publish.cells.csv_text) and written as
text in XLSX, so a reversal's `-200000.00` stays a number and a firm named `-1+1` stays a name.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from registry.catalog import amount_rules
from registry.core import terms
from registry.core.errors import RegistryError
from registry.ledger import append as ledger
from registry.ledger.append import Line
from registry.ledger.holds import held_now
from registry.publish import names, page, reports, workbook
from registry.publish.cells import csv_text
from registry.publish.workbook import Column
from registry.store.texts import json_rows

DRAFT, IN_FORCE = "征求意见稿（草案）", "正式"
AT_CAP, NOT_AT_CAP = "是", "否"
HELD = "异议暂缓"
UNKNOWN_CITY = "未知城市"
READ_ONLY = 0o444

# The list's columns (the CSV's, in order: other tools read them) and what kind of value each holds.
LIST_COLUMNS = (
    Column("序号", "int"), Column("清单日期", "date"), Column("统一社会信用代码"), Column("企业名称", cap=36),
    Column("所在城市"), Column("政策文件", cap=30), Column("条款", cap=12), Column("条款编号", cap=40),
    Column("类型"), Column("本次列支金额（元）", "amount"), Column("应享金额（元）", "amount"),
    Column("金额性质", cap=20), Column("文件状态", cap=18), Column("应享奖励编号"), Column("说明", cap=24),
    Column("可付金额（元）", "amount"), Column("清单行号"), Column("原列支行号"), Column("原因代码", cap=12),
    Column("公示状态", cap=24),
)
LIST_HEADER = tuple(c.header for c in LIST_COLUMNS)
AMOUNT_COLUMNS = {c.header for c in LIST_COLUMNS if c.kind == "amount"}
CAP_COLUMN = Column("按上限计列", cap=6)  # XLSX only (是/否): what 合计 splits on
# The XLSX city sheets: what a printed page needs first, then the columns for looking lines up
# (outside the print area: the list date and city are in every page's header).
_BY_HEADER = {c.header: c for c in (*LIST_COLUMNS, CAP_COLUMN)}
XLSX_PRINTED = ("序号", "统一社会信用代码", "企业名称", "政策文件", "条款", "类型", "本次列支金额（元）",
                "应享金额（元）", "可付金额（元）", "金额性质", CAP_COLUMN.header, "文件状态", "公示状态", "原因代码",
                "说明", "应享奖励编号")
XLSX_LIST_COLUMNS = tuple(_BY_HEADER[h] for h in (*XLSX_PRINTED, "清单日期", "所在城市", "条款编号", "清单行号",
                                                  "原列支行号"))
CHANGE_COLUMNS = (
    Column("变动类型"), Column("统一社会信用代码"), Column("企业名称", cap=36), Column("所在城市"),
    Column("条款编号", cap=24), Column("应享奖励编号"), Column("清单行号"), Column("原列支行号"),
    Column("金额（元）", "amount"), Column("说明", cap=50), Column("记录人", cap=16), Column("记录时间", "datetime"),
)
CHANGE_HEADER = tuple(c.header for c in CHANGE_COLUMNS)
TOTALS_COLUMNS = (
    Column("所在城市"), Column("奖励笔数", "int"), Column("奖励金额（元）", "amount"),
    Column("冲销笔数", "int"), Column("冲销金额（元）", "amount"),
    Column("本期净额（元）", "amount"), Column("其中：正式文件（元）", "amount"),
    Column("其中：征求意见稿（元）", "amount"), Column("其中：定额或按实计算（元）", "amount"),
    Column("其中：按上限（不超过）计列（元）", "amount"), Column("其中异议暂缓（元）", "amount"),
    Column("不含暂缓净额（元）", "amount"),
)
TOTALS_HEADER = tuple(c.header for c in TOTALS_COLUMNS)
PARQUET_COLUMNS = (
    ("list_date", "date"), ("seq", "bigint"), ("line_id", "varchar"), ("entitlement_id", "varchar"),
    ("uscc", "varchar"), ("firm_name", "varchar"), ("city", "varchar"), ("clause_id", "varchar"),
    ("document_title", "varchar"), ("article", "varchar"), ("kind", "varchar"), ("amount", "decimal(18, 2)"),
    ("payable_amount", "decimal(18, 2)"), ("entitled_amount", "decimal(18, 2)"), ("amount_rule", "varchar"),
    ("is_cap", "boolean"), ("is_draft", "boolean"), ("status", "varchar"), ("reason_code", "varchar"),
    ("reason", "varchar"), ("original_line_id", "varchar"), ("rule_version", "varchar"), ("held", "boolean"),
)


class ExportError(RegistryError):
    """An export does not add up to the ledger's list: it is not published."""


@dataclass(frozen=True)
class Night:
    """Everything the exports of one night show, read from the ledger in one go."""

    list_date: dt.date
    lines: tuple[Line, ...]
    held: frozenset[str]
    changes: tuple[reports.Change, ...]
    notice_ends: dt.date
    lines_head: str | None
    line_count: int
    total: Decimal
    cities: tuple[tuple[str, str], ...] = ()  # (city, name) from reference.cities, in division-code order
    page: page.PageData | None = None

    def city_name(self, city: str | None) -> str:
        return dict(self.cities).get(city or "", city or UNKNOWN_CITY)

    def city_order(self) -> list[str]:
        known = [c for c, _ in self.cities]
        present = {line.city or "" for line in self.lines}
        return [c for c in known if c in present] + sorted(present - set(known))


def read_cities(con: duckdb.DuckDBPyConnection) -> tuple[tuple[str, str], ...]:
    if not con.execute("select count(*) from information_schema.tables where table_schema = 'reference' "
                       "and table_name = 'cities'").fetchone()[0]:
        return ()
    return tuple(con.execute("select city, name from reference.cities order by division_prefix, city").fetchall())


def read_night(con: duckdb.DuckDBPyConnection, list_date: dt.date) -> Night:
    notice_ends, head, count, total = con.execute(
        "select notice_ends, lines_head, line_count, total from ledger.lists where list_date = ?",
        [list_date]).fetchone()
    return Night(list_date, tuple(ledger.lines_for(con, list_date)), frozenset(held_now(con, list_date)),
                 tuple(reports.night_changes(con, list_date)), notice_ends, head, count, total,
                 read_cities(con), page.read_page_data(con, list_date))


def rule_label(line: Line) -> str:
    capped = line.is_cap and line.amount_rule != "up_to"
    return amount_rules.label(line.amount_rule) + ("，已封顶" if capped else "")


def _yuan(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


def notice_label(night: Night, line: Line) -> str:
    return HELD if line.entitlement_id in night.held else f"公示中（至 {night.notice_ends}）"


def list_records(night: Night) -> list[tuple[Any, ...]]:
    """The list's rows as typed values, in LIST_COLUMNS order (codes as codes)."""
    return [
        (i, line.list_date, line.uscc, line.firm_name or "", night.city_name(line.city), line.document_title,
         line.article, line.clause_id, terms.label(terms.KIND, line.kind), line.amount, line.entitled_amount,
         rule_label(line), DRAFT if line.is_draft else IN_FORCE, line.entitlement_id, line.reason,
         line.payable_amount, line.line_id, line.original_line_id or "", line.reason_code, notice_label(night, line))
        for i, line in enumerate(night.lines, start=1)
    ]


def change_records(night: Night) -> list[tuple[Any, ...]]:
    return [(c.label, c.uscc, c.firm_name, night.city_name(c.city) if c.city else "", c.clause_id, c.entitlement_id,
             c.line_id, c.original_line_id, c.amount, c.reason, c.actor, _recorded(c.recorded_at))
            for c in night.changes]


def _recorded(text: str) -> dt.datetime | None:
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S UTC") if text else None


def _csv_cell(column: Column, value: Any) -> str:
    if value is None:
        return ""
    if column.kind == "amount":
        if not isinstance(value, Decimal):
            raise TypeError(f"{column.header}: an amount column takes a Decimal, got {value!r}")
        return _yuan(value)
    if column.kind == "int":
        return str(int(value))
    if column.kind == "date":
        return value.isoformat()
    if column.kind == "datetime":
        return value.strftime("%Y-%m-%d %H:%M:%S UTC")
    return csv_text(str(value))


def csv_rows(columns: Sequence[Column], records: Iterable[Sequence[Any]]) -> list[tuple[str, ...]]:
    return [tuple(_csv_cell(c, v) for c, v in zip(columns, record, strict=True)) for record in records]


def list_rows(night: Night) -> list[tuple[str, ...]]:
    return csv_rows(LIST_COLUMNS, list_records(night))


def change_rows(night: Night) -> list[tuple[str, ...]]:
    return csv_rows(CHANGE_COLUMNS, change_records(night))


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[str]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _xlsx_record(record: tuple[Any, ...], line: Line) -> tuple[Any, ...]:
    """A list row as the XLSX shows it: in XLSX column order, the reason code as its Chinese term
    (terms.REASON), the cap column added."""
    values = dict(zip(LIST_HEADER, record, strict=True))
    values["原因代码"] = terms.label(terms.REASON, line.reason_code)
    values[CAP_COLUMN.header] = AT_CAP if line.is_cap else NOT_AT_CAP
    return tuple(values[c.header] for c in XLSX_LIST_COLUMNS)


def _sum(lines: Iterable[Line]) -> Decimal:
    return sum((line.amount for line in lines), ledger.ZERO)


def _totals_row(night: Night, name: str, title: str, lines: list[Line], at: int) -> tuple[Any, ...]:
    """One city's totals as formulas over its sheet's rows 2..n+1 (row `at` of 合计), each with
    the value the ledger gives."""
    n = len(lines)

    def col(header: str) -> str:
        j = next(i for i, c in enumerate(XLSX_LIST_COLUMNS) if c.header == header) + 1
        letter = workbook.get_column_letter(j)
        return f"{workbook.quoted(title)}!${letter}$2:${letter}${n + 1}"

    F = workbook.Formula
    amount, kind = col("本次列支金额（元）"), col("类型")
    status, cap, notice = col("文件状态"), col(CAP_COLUMN.header), col("公示状态")
    award, reversal = terms.label(terms.KIND, "award"), terms.label(terms.KIND, "reversal")
    awards = [x for x in lines if x.kind == "award"]
    reversals = [x for x in lines if x.kind == "reversal"]
    held = [x for x in lines if x.entitlement_id in night.held]
    return (name, F(f'=COUNTIF({kind},"{award}")', len(awards)), F(f'=SUMIF({kind},"{award}",{amount})', _sum(awards)),
            F(f'=COUNTIF({kind},"{reversal}")', len(reversals)),
            F(f'=SUMIF({kind},"{reversal}",{amount})', _sum(reversals)), F(f"=SUM({amount})", _sum(lines)),
            F(f'=SUMIF({status},"{IN_FORCE}",{amount})', _sum(x for x in lines if not x.is_draft)),
            F(f'=SUMIF({status},"{DRAFT}",{amount})', _sum(x for x in lines if x.is_draft)),
            F(f'=SUMIF({cap},"{NOT_AT_CAP}",{amount})', _sum(x for x in lines if not x.is_cap)),
            F(f'=SUMIF({cap},"{AT_CAP}",{amount})', _sum(x for x in lines if x.is_cap)),
            F(f'=SUMIF({notice},"{HELD}",{amount})', _sum(held)), F(f"=F{at}-K{at}", _sum(lines) - _sum(held)))


def xlsx_bytes(night: Night) -> bytes:
    F = workbook.Formula
    book = workbook.new_book(night.list_date)
    caption = f"免申即享兑付清单 {night.list_date.isoformat()}"
    records = list_records(night)
    taken = ["合计", "变动说明"]
    by_city: list[tuple[str, str, list[Line], list[tuple[Any, ...]]]] = []
    for city in night.city_order():
        name = night.city_name(city) if city else UNKNOWN_CITY
        title = workbook.sheet_title(name, taken)
        taken.append(title)
        pairs = [(r, line) for r, line in zip(records, night.lines, strict=True) if (line.city or "") == city]
        by_city.append((name, title, [line for _, line in pairs], [_xlsx_record(r, line) for r, line in pairs]))

    totals = [_totals_row(night, name, title, lines, at) for at, (name, title, lines, _) in enumerate(by_city, start=2)]
    last = len(totals) + 1
    grand: list[Any] = ["合计"]
    for j in range(2, len(TOTALS_COLUMNS) + 1):
        c = workbook.get_column_letter(j)
        expected = sum(t[j - 1].expected for t in totals)
        grand.append(F(f"=SUM({c}2:{c}{last})", expected) if totals else
                     (expected if TOTALS_COLUMNS[j - 1].kind == "int" else ledger.ZERO))
    ws = workbook.add_table(book, "合计", TOTALS_COLUMNS, [*totals, tuple(grand)], caption=caption + " 合计")
    ws.auto_filter.ref = f"A1:{workbook.get_column_letter(len(TOTALS_COLUMNS))}{max(last, 2)}"
    for cell in ws[last + 1]:
        cell.font = workbook.BOLD
    meta = [("清单日期", night.list_date, "date"), ("公示期截止", night.notice_ends, "date"),
            ("行数", night.line_count, "int"), ("台账校验值（链头）", night.lines_head or "", "text"),
            ("说明", "金额均为公式，由各城市工作表的明细行计算；“其中”各列按文件状态、是否按上限（不超过）计列、"
                   "是否异议暂缓拆分本期净额。城市工作表打印前 16 列（清单日期与城市见页眉）；条款编号、清单行号、"
                   "原列支行号在打印区域之外。", "text")]
    end = workbook.get_column_letter(len(TOTALS_COLUMNS))
    for k, (label, value, kind) in enumerate(meta, start=last + 3):
        workbook.set_cell(ws.cell(row=k, column=1), "text", label)
        ws.cell(row=k, column=1).font, ws.cell(row=k, column=1).alignment = workbook.BOLD, workbook.TOP
        cell = ws.cell(row=k, column=2)
        workbook.set_cell(cell, kind, value)
        cell.alignment = workbook.Alignment(horizontal="left", vertical="top", wrap_text=True)
        ws.merge_cells(f"B{k}:{end}{k}")
        if kind == "text" and len(str(value)) > 80:
            ws.row_dimensions[k].height = workbook.ROW_HEIGHT * 2
    ws.column_dimensions["A"].width = max(ws.column_dimensions["A"].width,
                                          max(workbook.display_width(m[0]) for m in meta) * workbook.WIDE + 2)
    ws.print_area = f"A1:{end}{last + 2 + len(meta)}"

    for _name, title, _lines, rows in by_city:
        n = len(rows)
        footer: list[Any] = [None] * len(XLSX_LIST_COLUMNS)
        footer[XLSX_LIST_COLUMNS.index(_BY_HEADER["企业名称"])] = "合计（筛选后可见的行）"
        for j, column in enumerate(XLSX_LIST_COLUMNS):
            if column.kind == "amount":
                c = workbook.get_column_letter(j + 1)
                expected = sum((r[j] for r in rows if r[j] is not None), ledger.ZERO)
                footer[j] = F(f"=SUBTOTAL(9,{c}2:{c}{n + 1})", expected)
        workbook.add_table(book, title, XLSX_LIST_COLUMNS, rows, caption=f"{caption} {title}", footer_row=footer,
                           print_columns=len(XLSX_PRINTED))
    workbook.add_table(book, "变动说明", CHANGE_COLUMNS, change_records(night), caption=caption + " 变动说明")
    return workbook.to_bytes(book, night.list_date)


def parquet_bytes(night: Night) -> bytes:
    """The night's lines as Parquet: their texts (`registry.store.texts`), cast by DuckDB to
    PARQUET_COLUMNS' types in one statement."""

    def cell(value: Any) -> str | None:
        return None if value is None else value.isoformat() if isinstance(value, dt.date) else str(value)

    *fields, (held, _) = PARQUET_COLUMNS
    rows = [{**{name: cell(getattr(line, name)) for name, _ in fields}, held: str(line.entitlement_id in night.held)}
            for line in night.lines]
    casts = ", ".join(f"cast({name} as {kind}) as {name}" for name, kind in PARQUET_COLUMNS)
    with (tempfile.TemporaryDirectory() as folder, duckdb.connect() as con,
          json_rows(rows, [name for name, _ in PARQUET_COLUMNS]) as (relation, params)):
        path = Path(folder) / "list.parquet"
        con.execute(f"copy (select {casts} from {relation} order by seq) "  # noqa: S608
                    "to ? (format parquet, compression zstd)", [*params, str(path)])
        return path.read_bytes()


def list_csv_path(output_dir: Path, list_date: dt.date) -> Path:
    return output_dir / names.night_files(list_date)["csv"]


def export_paths(output_dir: Path, list_date: dt.date) -> dict[str, Path]:
    paths = {kind: output_dir / name for kind, name in names.night_files(list_date).items()}
    return {**paths, "index": output_dir / names.INDEX_NAME}


def render(night: Night) -> dict[str, bytes]:
    """Every file of the night, in memory (the CSV list first)."""
    files = {"csv": csv_bytes(LIST_HEADER, list_rows(night)), "xlsx": xlsx_bytes(night),
             "parquet": parquet_bytes(night), "changes": csv_bytes(CHANGE_HEADER, change_rows(night))}
    if night.page is not None:
        files["report"] = page.report_html(night.page, night)
        files["index"] = page.index_html(night.page)
    return files


def write_atomically(path: Path, content: bytes) -> bool:
    """Write `content` to `path` (read-only) unless it holds exactly that already; returns True
    when it wrote. A temporary file beside `path` is renamed over it: readers never see half a file."""
    if path.exists() and path.read_bytes() == content:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.unlink(missing_ok=True)
    temporary.write_bytes(content)
    os.chmod(temporary, READ_ONLY)
    os.replace(temporary, path)
    return True


def write_list_csv(output_dir: Path, night: Night, files: dict[str, bytes] | None = None) -> Path:
    path = export_paths(output_dir, night.list_date)["csv"]
    write_atomically(path, (files or {}).get("csv") or csv_bytes(LIST_HEADER, list_rows(night)))
    return path


def write_other_exports(output_dir: Path, night: Night, files: dict[str, bytes] | None = None) -> dict[str, Path]:
    files = files or render(night)
    paths = export_paths(output_dir, night.list_date)
    for name, content in files.items():
        if name != "csv":
            write_atomically(paths[name], content)
    return {name: paths[name] for name in files}


def _read_xlsx_lines(content: bytes) -> list[Decimal]:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(content), read_only=True)
    column = next(i for i, c in enumerate(XLSX_LIST_COLUMNS) if c.header == "本次列支金额（元）")
    try:
        return [Decimal(str(row[column])) for ws in book.worksheets if ws.title not in ("合计", "变动说明")
                for row in ws.iter_rows(min_row=2, values_only=True) if isinstance(row[0], int)]
    finally:
        book.close()


def check_rendered(night: Night, files: dict[str, bytes]) -> None:
    """Read every rendered file back: its lines and total must be the ledger's list record."""
    found: dict[str, tuple[int, Decimal]] = {}
    rows = list(csv.DictReader(io.StringIO(files["csv"].decode("utf-8-sig"))))
    found["csv"] = (len(rows), sum((Decimal(r["本次列支金额（元）"]) for r in rows), ledger.ZERO))
    with tempfile.TemporaryDirectory() as folder, duckdb.connect() as con:
        path = Path(folder) / "list.parquet"
        path.write_bytes(files["parquet"])
        count, total = con.execute("select count(*), coalesce(sum(amount), 0) from read_parquet(?)",
                                   [str(path)]).fetchone()
    found["parquet"] = (count, total)
    amounts = _read_xlsx_lines(files["xlsx"])
    found["xlsx"] = (len(amounts), sum(amounts, ledger.ZERO))
    if "report" in files:
        shown = page.total_shown(files["report"])
        found["report"] = (night.line_count if shown == night.total else -1, shown)
    wrong = {name: got for name, got in found.items() if got != (night.line_count, night.total)}
    if wrong:
        raise ExportError(f"exports of {night.list_date} do not add up to the ledger's {night.line_count} lines / "
                          f"{night.total} yuan: {wrong}")


def verify_exports(output_dir: Path, night: Night) -> None:
    """Read every written export back: its lines and total must be the ledger's list record."""
    paths = export_paths(output_dir, night.list_date)
    names = ("csv", "xlsx", "parquet", "changes") + (("report",) if night.page is not None else ())
    check_rendered(night, {name: paths[name].read_bytes() for name in names})


def verify_written(output_dir: Path, night: Night, files: dict[str, bytes]) -> None:
    """The files on disk are the rendered files that `check_rendered` read back (byte for byte)."""
    paths = export_paths(output_dir, night.list_date)
    differ = [name for name, content in files.items()
              if not paths[name].exists() or paths[name].read_bytes() != content]
    if differ:
        raise ExportError(f"exports of {night.list_date} on disk are not the files checked: {', '.join(differ)}",
                          hint="rerun the night: its files are rendered again from the ledger")
