"""XLSX sheets a finance office can print and filter: typed cells, fitted columns, print set-up.

Every sheet: header row in bold on grey, wrapped, repeated on every printed page; A4 landscape,
fitted to the page width (as many pages down as needed); an autofilter over the table; frozen
header. Column widths follow the content (East Asian characters count double), up to a cap past
which the column wraps. Cells are typed: counts and 序号 are integers, dates are dates, amounts are
numbers with a yuan format showing exactly the fen (written from the ledger's decimals), and every
text is written as text (never a formula, whatever it starts with; XML-illegal characters shown as
pictures, registry.publish.cells). Formulas are only the ones this module writes.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import zipfile
from collections.abc import Sequence
from copy import copy
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from registry.publish.cells import display_width, xml_text

YUAN = "#,##0.00;[Red]-#,##0.00"
COUNT = "#,##0"
DATE = "yyyy-mm-dd"
DATETIME = "yyyy-mm-dd hh:mm:ss"
KINDS = ("int", "date", "datetime", "amount", "text")
SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")

BOLD = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="FFD9D9D9")
THIN = Side(style="thin", color="FF999999")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP = Alignment(wrap_text=True, vertical="top")
TOP = Alignment(vertical="top")
HEADER_ALIGN = Alignment(wrap_text=True, vertical="center", horizontal="center")


class Formula(str):
    """A formula this module built (for a numeric column; any other str is a text), with the value
    it is expected to give (sizes the column, and lets a test compare what a spreadsheet computes)."""

    expected: Any

    def __new__(cls, text: str, expected: Any = None) -> Formula:
        made = super().__new__(cls, text)
        made.expected = expected
        return made


@dataclass(frozen=True)
class Column:
    header: str
    kind: str = "text"
    cap: int = 40  # widest the column gets (in character widths); longer texts wrap

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}")


def new_book(day: dt.date) -> Workbook:
    book = Workbook()
    book.remove(book.active)
    book.properties.creator = "registry"
    book.properties.created = book.properties.modified = dt.datetime.combine(day, dt.time())
    return book


def sheet_title(name: str, taken: Sequence[str]) -> str:
    base = SHEET_FORBIDDEN.sub("_", xml_text(name)).strip("'")[:31] or "未知"
    title, n = base, 2
    while title in taken:
        suffix = f"({n})"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    return title


def quoted(title: str) -> str:
    return "'" + title.replace("'", "''") + "'"


def _shown(kind: str, value: Any) -> str:
    """The text a cell shows, to size its column."""
    if value is None:
        return ""
    if isinstance(value, Formula):
        value = value.expected if value.expected is not None else (Decimal("-99999999.99") if kind == "amount"
                                                                   else 99999)
    if kind == "amount":
        return f"{value:,.2f}"
    if kind == "int":
        return f"{value:,}"
    if kind == "date":
        return "2026-01-01"
    if kind == "datetime":
        return "2026-01-01 00:00:00"
    return str(value)


NUMBER_FORMATS = {"amount": YUAN, "int": COUNT, "date": DATE, "datetime": DATETIME}


def put_value(cell: Any, kind: str, value: Any) -> bool:
    """Write `value` into `cell` as a `kind`; True when the cell is a text that starts like a
    formula (it then gets Excel's quote prefix, so it stays a text when someone edits it)."""
    if value is None or value == "":
        cell.value = None
        return False
    if kind == "text":
        cell.value = xml_text(str(value))
        cell.data_type = "s"  # a text is a text: "=HYPERLINK(...)" stays a string, never a formula
        return cell.value[:1] in ("=", "+", "-", "@")
    if isinstance(value, Formula):
        cell.value = str(value)  # a formula this module built
    elif kind == "amount":
        if not isinstance(value, Decimal):
            raise TypeError(f"an amount cell takes a Decimal, got {value!r}")
        cell.value = value  # written as the decimal's own digits: Excel shows exactly the fen
    elif kind == "int":
        if not isinstance(value, int):
            raise TypeError(f"an integer cell takes an int, got {value!r}")
        cell.value = value
    else:
        cell.value = value
    return False


def set_cell(cell: Any, kind: str, value: Any) -> None:
    """Write a value with its number format (one cell; tables style whole columns at once)."""
    if put_value(cell, kind, value):
        cell.quotePrefix = True
    if kind in NUMBER_FORMATS and value is not None and value != "":
        cell.number_format = NUMBER_FORMATS[kind]


ROW_HEIGHT = 15.0  # points per line of the default 11-point font
WIDE = 1.1  # a wide glyph is a little wider than two digit widths


def _width(column: Column, values: Sequence[Any]) -> tuple[float, bool]:
    """(width, wraps) of a column: its widest content plus padding (the header may take two
    lines); a text column wider than its cap gets the cap and wraps."""
    content = max((display_width(_shown(column.kind, v)) for v in values), default=0)
    header = display_width(column.header)
    header_need = math.ceil(header / 2) + 4 if header > content else header
    need = max(content, header_need, 4)
    if column.kind == "text" and need > column.cap:
        return column.cap * WIDE + 2, True
    return need * WIDE + 2, False


def _lines(text: str, width: float) -> int:
    """How many lines `text` takes in a wrapping column `width` wide."""
    usable = max(width - 2, 1) / WIDE
    return sum(max(1, math.ceil(display_width(part) / usable)) for part in text.split("\n"))


def add_table(book: Workbook, title: str, columns: Sequence[Column], rows: Sequence[Sequence[Any]], *,
              caption: str, footer_row: Sequence[Any] | None = None, print_columns: int | None = None) -> Worksheet:
    """A sheet holding `rows` under a header, set up for print; `footer_row` (same columns) goes
    below the table, outside the filter (e.g. a SUBTOTAL row); only the first `print_columns`
    columns are printed (all by default). Rows that wrap get the height of their lines: neither
    Excel nor LibreOffice grows a row written without one."""
    ws = book.create_sheet(title)
    for j, column in enumerate(columns, start=1):
        cell = ws.cell(row=1, column=j, value=column.header)
        cell.data_type = "s"
        cell.font, cell.fill, cell.alignment, cell.border = BOLD, HEADER_FILL, HEADER_ALIGN, BORDER
    quoted = []
    for i, row in enumerate(rows, start=2):
        if len(row) != len(columns):
            raise ValueError(f"a row of {len(row)} cells under {len(columns)} columns")
        for j, (column, value) in enumerate(zip(columns, row, strict=True), start=1):
            cell = ws.cell(row=i, column=j)
            if put_value(cell, column.kind, value):
                quoted.append(cell)
    widths, wraps = [], []
    for j, column in enumerate(columns, start=1):
        width, wrap = _width(column, [row[j - 1] for row in rows] + ([footer_row[j - 1]] if footer_row else []))
        ws.column_dimensions[get_column_letter(j)].width = round(width, 1)
        widths.append(width)
        wraps.append(wrap)
    ws.row_dimensions[1].height = ROW_HEIGHT * max(_lines(c.header, w) for c, w in zip(columns, widths, strict=True))
    for i, row in enumerate(rows, start=2):
        lines = max((_lines(str(v), w) for v, w, wrap in zip(row, widths, wraps, strict=True)
                     if wrap and isinstance(v, str)), default=1)
        if lines > 1:
            ws.row_dimensions[i].height = ROW_HEIGHT * lines
    if rows:
        # One style per column, built once and copied: styling cell by cell is most of the time.
        templates = []
        for j, (column, wrap) in enumerate(zip(columns, wraps, strict=True), start=1):
            cell = ws.cell(row=2, column=j)
            cell.alignment, cell.border = (WRAP if wrap else TOP), BORDER
            if column.kind in NUMBER_FORMATS:
                cell.number_format = NUMBER_FORMATS[column.kind]
            templates.append(cell._style)
        for row_cells in ws.iter_rows(min_row=3, max_row=len(rows) + 1):
            for cell, template in zip(row_cells, templates, strict=True):
                cell._style = copy(template)
    for cell in quoted:
        cell.quotePrefix = True
    last = get_column_letter(len(columns))
    if footer_row is not None:
        at = len(rows) + 2
        for j, (column, value) in enumerate(zip(columns, footer_row, strict=True), start=1):
            cell = ws.cell(row=at, column=j)
            set_cell(cell, column.kind if value is not None else "text", value)
            cell.font, cell.border = BOLD, BORDER
    ws.auto_filter.ref = f"A1:{last}{max(len(rows) + 1, 2)}"
    ws.freeze_panes = "A2"
    print_setup(ws, caption)
    printed = get_column_letter(print_columns or len(columns))
    ws.print_area = f"A1:{printed}{len(rows) + 1 + (footer_row is not None)}"
    return ws


def print_setup(ws: Worksheet, caption: str) -> None:
    ws.print_title_rows = "1:1"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages down as the rows need
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins = PageMargins(left=0.3, right=0.3, top=0.55, bottom=0.55, header=0.25, footer=0.25)
    ws.print_options.gridLines = False
    ws.oddHeader.center.text = xml_text(caption).replace("&", "&&")
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"


def to_bytes(book: Workbook, day: dt.date) -> bytes:
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(book, archive).save()
    return _fixed_zip(raw.getvalue(), day)


def _fixed_zip(content: bytes, day: dt.date) -> bytes:
    """The same archive with every entry dated `day`: zip entries otherwise carry the clock."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(day.year, day.month, day.day, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            target.writestr(fixed, source.read(info.filename))
    return out.getvalue()
