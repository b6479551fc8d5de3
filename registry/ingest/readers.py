"""One generic reader: a CSV, XLSX or JSON file -> its header and its rows, each with the row number
an auditor finds it under in the original file.

* CSV: the physical line the record starts on (line 1 = the first line of the file), in the
  spec's `encoding`; a UTF-8 BOM is accepted.
* XLSX: the worksheet row number Excel shows.
* JSON: the 1-based position of the record in the list of records.

Every physical row after the header ends in exactly one place: it is a row read (`Table.rows`,
then landed, quarantined or a duplicate) or a blank row (`Table.blank_rows`: nothing but white
space, separators and quote marks; blank rows are not data). A row whose shape cannot be trusted
carries an `issue` and is quarantined by the mapping, never landed or dropped:

* CSV: a row with more cells than the header (shifted), or fewer (truncated: a file cut at a comma);
  a record that runs over several lines (a quoted value holding line breaks: a stray quote
  swallowing the rows after it) is quarantined with every line it covers, each under its own line
  number; a quote never closed is reported with the lines it swallowed, to the end of the file;
* XLSX: a row with values right of the last header column (shifted); a row holding formulas
  without a cached value (the file was written by a program that does not calculate: the values
  are unknown); a hidden row (hidden by hand or filtered out). The spec names the sheet it reads;
  any other sheet with data is an error (`ignore_sheets:` names sheets that are not data), so a
  second sheet of a list is never silently ignored;
* JSON: a record that is not an object.

Whole-file problems (wrong encoding, empty or truncated file, no header, an unexpected sheet)
raise `IngestError` naming the file, and the line, row or sheet where it is known.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from registry.ingest.errors import IngestError
from registry.ingest.spec import SourceSpec
from registry.ingest.values import clean, norm_key

HEADER_SCAN_ROWS = 30  # `header_row: auto` looks at this many rows from the top


@dataclass
class SourceRow:
    number: int  # row number in the original file (see the module docstring)
    cells: dict[str, Any]  # header text -> cell as read; a column the row does not reach is absent
    issue: str | None = None  # why the row's shape cannot be trusted
    short: bool = False  # the row stops before the last column (a truncated row)


@dataclass
class Table:
    header: list[str]
    rows: list[SourceRow]
    location: str  # "line 3", "sheet '名单' row 2", "records at data.records"
    header_row: int | None = None
    warnings: list[str] = field(default_factory=list)
    blank_rows: list[int] = field(default_factory=list)  # physical rows after the header that hold nothing
    physical_rows: int = 0  # every physical row after the header (CSV lines, sheet rows, JSON records)


class HeaderCheck(Protocol):
    """What the reader needs to know to find and judge the header row (`mapping.Binding` is one)."""

    expected: str  # the required columns, for messages about files without any header
    explain: str  # appended to a "header lacks" message (e.g. the contract's field list)

    def missing(self, header: list[str]) -> list[str]: ...


def read_table(spec: SourceSpec, path: Path, check: HeaderCheck) -> Table:
    """Read `path` as `spec` says; `check` tells which row is the header."""
    if not path.is_file():
        raise IngestError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise IngestError(f"{path}: the file is empty (expected a header row with {check.expected})")
    reader = {"csv": _read_csv, "xlsx": _read_xlsx, "json": _read_json}[spec.format]
    return reader(spec, path, check)


def header_texts(cells: Iterable[Any]) -> list[str]:
    """Header cells as text: blank ones named by position, repeated ones numbered."""
    out: list[str] = []
    for index, cell in enumerate(cells, start=1):
        text = clean(cell) or f"(column {index})"
        while text in out:
            text = f"{text}#2" if "#" not in text else f"{text.rsplit('#', 1)[0]}#{int(text.rsplit('#', 1)[1]) + 1}"
        out.append(text)
    return out


def _blank(cells: Iterable[Any]) -> bool:
    return all(clean(c) is None for c in cells)


def _find_header(spec: SourceSpec, path: Path, rows: list[tuple[int, list[Any]]], check: HeaderCheck,
                 where: str) -> tuple[int, list[str]]:
    """The header row: the declared one (checked), or the first that holds every required column."""
    nonblank = [(n, cells) for n, cells in rows if not _blank(cells)]
    if not nonblank:
        raise IngestError(f"{path}{where}: no rows at all (expected a header row with {check.expected})")
    scan = [(n, header_texts(c)) for n, c in nonblank[:HEADER_SCAN_ROWS]]
    if spec.header_row is None:
        for number, header in scan:
            if not check.missing(header):
                return number, header
        first = ", ".join(h for h in scan[0][1] if not h.startswith("(column "))
        raise IngestError(f"{path}{where}: no row among the first {HEADER_SCAN_ROWS} holds {check.expected}; "
                          f"the first row holds {first}{check.explain}")
    declared = next((header_texts(c) for n, c in rows if n == spec.header_row), None)
    missing = check.missing(declared) if declared is not None else [check.expected]
    if declared is not None and not missing:
        return spec.header_row, declared
    found = next((n for n, header in scan if not check.missing(header)), None)
    hint = f"; row {found} holds them: set `header_row: {found}` (or `auto`) in {spec.where}" if found else ""
    at = "" if spec.header_row == 1 else f" (row {spec.header_row})"
    seen = ", ".join(h for h in declared or [] if not h.startswith("(column ")) or "nothing"
    raise IngestError(f"{path}{where}: header{at} lacks required column(s) {', '.join(missing)}; "
                      f"found {seen}{hint}{check.explain}")


def _row(header: list[str], number: int, cells: list[Any], *, strict_width: bool) -> SourceRow:
    values = {name: cells[i] for i, name in enumerate(header) if i < len(cells)}
    extra = [c for c in cells[len(header):] if clean(c) is not None]
    if extra and strict_width:
        return SourceRow(number, values, f"row has {len(cells)} cells but the header has {len(header)} (a "
                                         f"separator inside an unquoted value?); extra: "
                                         f"{', '.join(repr(clean(c)) for c in extra[:3])}")
    if len(cells) < len(header):
        return SourceRow(number, values, f"row ends after {len(cells)} of {len(header)} columns (truncated row?)",
                         short=True)
    return SourceRow(number, values)


# ------------------------------------------------------------------------------------------------ CSV


_GB = ("gb18030", "gbk", "gb2312", "cp936")


def _decode(raw: bytes, spec: SourceSpec, path: Path) -> str:
    encoding = codecs.lookup(spec.encoding).name
    label = spec.encoding.upper()
    if encoding in _GB and not raw.isascii():
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            raise IngestError(f"{path}: the file is UTF-8, but {spec.where} declares encoding {spec.encoding}: "
                              "the publisher changed the encoding; re-save it as GB18030 or change `encoding`")
    try:
        return raw.decode("utf-8-sig" if encoding == "utf-8" else encoding)
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        if err.end >= len(raw) or "incomplete" in str(err.reason) or "end of data" in str(err.reason):
            raise IngestError(f"{path}: line {line}: the file ends in the middle of a {label} character: "
                              "it looks truncated; ask for the file again") from err
        hint = ""
        for other in ("gb18030", "utf-8"):
            if other != encoding:
                try:
                    raw.decode(other)
                except UnicodeDecodeError:
                    continue
                hint = f"; it reads as {other.upper()}: declare `encoding: {other}` in a source spec"
                break
        raise IngestError(f"{path}: line {line} is not {label} (byte {err.start}){hint}. "
                          f"The source {spec.name} expects {label}") from err


def _blank_line(line: str, delimiter: str) -> bool:
    """A physical line holding nothing but white space, separators and quote marks."""
    return not line.strip().strip(delimiter + '"' + " \t\r\n\u3000\ufeff")


def _records(text: str, spec: SourceSpec, path: Path) -> list[tuple[int, int, list[Any]]]:
    """(first line, last line, cells) of every CSV record; a record over several lines holds a
    quoted value with line breaks."""
    records: list[tuple[int, int, list[Any]]] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=spec.delimiter)
    limit = csv.field_size_limit()
    csv.field_size_limit(max(limit, len(text) + 1))  # an unclosed quote may swallow the whole rest of the file
    start = 1
    try:
        for cells in reader:
            records.append((start, reader.line_num, cells))
            start = reader.line_num + 1
    except csv.Error as err:
        raise IngestError(f"{path}: line {reader.line_num}: not readable as CSV ({err})") from err
    finally:
        csv.field_size_limit(limit)
    return records


def csv_record_rows(header: list[str], first: int, last: int, cells: list[Any], lines: list[str], total_lines: int,
                    delimiter: str) -> tuple[list[SourceRow], list[int]]:
    """The rows and blank lines of one CSV record after the header: `first`..`last` its physical lines,
    `lines` their text (terminators kept), `total_lines` the file's physical lines."""
    if last == first:
        if _blank(cells):
            return [], [first]
        return [_row(header, first, cells, strict_width=True)], []
    if _blank(cells) and all(_blank_line(line, delimiter) for line in lines):
        return [], list(range(first, last + 1))
    unclosed = last == total_lines and "".join(lines).count('"') % 2 == 1
    if unclosed:
        issue = (f"a quote opened on line {first} is never closed: it swallows lines {first + 1}-{last}, to the "
                 "end of the file, into this row (each swallowed line is quarantined too); close the quote")
        inside = f"swallowed by the quote opened on line {first}, never closed (lines {first}-{last})"
    else:
        issue = (f"row runs over lines {first}-{last}: a quoted value holds line breaks (a stray quote swallowing "
                 "the rows after it, or a line break typed in a cell); each of those lines is quarantined too")
        inside = f"inside the quoted value that starts on line {first} (one row over lines {first}-{last})"
    values = {name: cells[i] for i, name in enumerate(header) if i < len(cells)}
    rows = [SourceRow(first, values, issue)]
    blank: list[int] = []
    for number, line in enumerate(lines[1:], start=first + 1):
        if _blank_line(line, delimiter):
            blank.append(number)
        else:
            rows.append(SourceRow(number, {f"(line {number})": line.rstrip("\r\n")}, inside))
    return rows, blank


def _read_csv(spec: SourceSpec, path: Path, check: HeaderCheck) -> Table:
    text = _decode(path.read_bytes(), spec, path)
    if not text.strip():
        raise IngestError(f"{path}: the file is empty (expected a header row with {check.expected})")
    physical = io.StringIO(text, newline="").readlines()
    records = _records(text, spec, path)
    ends = {first: last for first, last, _ in records}
    head = [(n, c) for n, _, c in records if n <= (spec.header_row or HEADER_SCAN_ROWS) + HEADER_SCAN_ROWS]
    header_line, header = _find_header(spec, path, head, check, "")
    header_end = ends.get(header_line, header_line)
    rows: list[SourceRow] = []
    blank: list[int] = []
    for first, last, cells in records:
        if first <= header_end:
            continue
        record_rows, record_blank = csv_record_rows(header, first, last, cells, physical[first - 1:last],
                                                    len(physical), spec.delimiter)
        rows += record_rows
        blank += record_blank
    return Table(header=header, rows=rows, location=f"header on line {header_line}", header_row=header_line,
                 blank_rows=blank, physical_rows=max(len(physical) - header_end, 0))


# ----------------------------------------------------------------------------------------------- XLSX


def _has_formulas(path: Path) -> bool:
    """Does any worksheet of the workbook hold a formula (an `<f>` element)? Cheap: no parsing."""
    try:
        with zipfile.ZipFile(path) as archive:
            return any(b"<f" in archive.read(name) for name in archive.namelist()
                       if name.startswith("xl/worksheets/") and name.endswith(".xml"))
    except (zipfile.BadZipFile, OSError, KeyError):
        return False


def _uncached_formulas(path: Path, title: str, cached: list[tuple[int, list[Any]]]) -> dict[int, list[str]]:
    """Row number -> 'B7 (=SUM(...))' for each formula cell whose cached value is missing."""
    import openpyxl
    from openpyxl.utils import get_column_letter

    book = openpyxl.load_workbook(path, data_only=False)
    try:
        sheet = book[title]
        values = {n: cells for n, cells in cached}
        out: dict[int, list[str]] = {}
        for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            for column, cell in enumerate(cells, start=1):
                if isinstance(cell, str) and cell.startswith("="):
                    formula: Any = cell
                elif type(cell).__name__ in ("ArrayFormula", "DataTableFormula"):
                    formula = getattr(cell, "text", None) or type(cell).__name__
                else:
                    formula = None
                if formula is None:
                    continue
                row = values.get(number, [])
                if column - 1 >= len(row) or row[column - 1] is None:
                    out.setdefault(number, []).append(f"{get_column_letter(column)}{number} ({str(formula)[:40]})")
        return out
    finally:
        book.close()


def _non_empty_rows(sheet: Any) -> int:
    return sum(1 for cells in sheet.iter_rows(values_only=True) if not _blank(cells))


def _read_xlsx(spec: SourceSpec, path: Path, check: HeaderCheck) -> Table:
    import openpyxl  # heavy-ish: only when an XLSX source is read
    from openpyxl.utils import get_column_letter
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = openpyxl.load_workbook(path, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, EOFError, ValueError) as err:
        raise IngestError(f"{path}: not a readable XLSX workbook ({type(err).__name__}: {err}); the file is "
                          "truncated or is not XLSX (an old .xls or a CSV renamed?)") from err
    try:
        if isinstance(spec.sheet, int):
            if spec.sheet >= len(book.worksheets):
                raise IngestError(f"{path}: has {len(book.worksheets)} sheet(s) {book.sheetnames}; "
                                  f"{spec.where} asks for sheet index {spec.sheet}")
            sheet = book.worksheets[spec.sheet]
        elif spec.sheet in book.sheetnames:
            sheet = book[spec.sheet]
        else:
            raise IngestError(f"{path}: no sheet {spec.sheet!r}; it has {book.sheetnames}")
        for other in book.worksheets:
            if other is sheet or other.title in spec.ignore_sheets:
                continue
            count = _non_empty_rows(other)
            if count:
                state = "" if other.sheet_state == "visible" else f" ({other.sheet_state})"
                raise IngestError(
                    f"{path}: sheet '{other.title}'{state} holds {count} non-empty row(s), but {spec.where} reads "
                    f"only sheet '{sheet.title}': a second part of the list would be lost. If it is data, deliver "
                    f"it as its own file (or its rows on sheet '{sheet.title}'); if it is not (notes, a cover "
                    f"page), name it in `ignore_sheets:` of the spec")
        where = f" sheet '{sheet.title}'"
        rows = [(n, list(cells)) for n, cells in enumerate(sheet.iter_rows(values_only=True), start=1)]
        merged = [(r.min_row, r.min_col, r.max_row, r.max_col, r.coord) for r in sheet.merged_cells.ranges]
        hidden = {n for n, dim in sheet.row_dimensions.items() if dim.hidden}
        title = sheet.title
    finally:
        book.close()
    uncached = _uncached_formulas(path, title, rows) if _has_formulas(path) else {}
    try:
        header_row, header = _find_header(spec, path, rows, check, where)
    except IngestError as err:
        titles = [coord for r0, _c0, r1, c1, coord in merged if r0 == r1 and c1 > _c0 and r0 == spec.header_row]
        if titles:
            raise IngestError(f"{err}; row {spec.header_row} is a merged title cell ({titles[0]}), "
                              "not the header") from err
        raise
    width = len(header)
    while width > 0 and header[width - 1].startswith("(column "):
        width -= 1
    header = header[:width]
    if spec.fill_merged:
        _fill_merged(rows, merged, header_row)
    out: list[SourceRow] = []
    blank: list[int] = []
    last = max([n for n, _ in rows] + list(uncached) + [header_row])
    by_number = dict(rows)
    for n in range(header_row + 1, last + 1):
        cells = by_number.get(n, [])
        beyond = [(f"{get_column_letter(i + 1)}{n}", clean(c)) for i, c in enumerate(cells) if i >= width and
                  clean(c) is not None]
        if _blank(cells) and n not in uncached:
            blank.append(n)
            continue
        row = _row(header, n, cells[:width], strict_width=False)
        if n in hidden:
            row.issue = ("row is hidden in the workbook (hidden by hand or filtered out): unhide it if it belongs "
                         "to the list, or delete it")
        elif n in uncached:
            row.issue = (f"formula cell(s) {', '.join(uncached[n][:3])} have no cached value: the file was written by "
                         "a program that does not calculate formulas, so the values are unknown; open and save it "
                         "in Excel or WPS (or export values) and deliver it again")
        elif beyond:
            shown = ", ".join(f"{c}: {v!r}" for c, v in beyond[:3])
            row.issue = (f"row has values right of the last header column ({shown}): shifted by a column, or notes "
                         "without a header? correct the source")
        out.append(row)
    return Table(header=header, rows=out, location=f"{where.strip()}, header on row {header_row}",
                 header_row=header_row, blank_rows=blank, physical_rows=last - header_row)


def _fill_merged(rows: list[tuple[int, list[Any]]], merged: list[tuple[int, int, int, int, str]],
                 header_row: int) -> None:
    """Copy each merged range's value (kept by Excel in its top-left cell) to every cell of the range."""
    by_number = {n: cells for n, cells in rows}
    for r0, c0, r1, c1, _coord in merged:
        if r1 <= header_row or r0 not in by_number:
            continue
        top = by_number[r0]
        value = top[c0 - 1] if c0 - 1 < len(top) else None
        for r in range(max(r0, header_row + 1), r1 + 1):
            cells = by_number.get(r)
            if cells is None:
                continue
            for c in range(c0 - 1, min(c1, len(cells))):
                cells[c] = value


# ----------------------------------------------------------------------------------------------- JSON


def _read_json(spec: SourceSpec, path: Path, check: HeaderCheck) -> Table:
    text = _decode(path.read_bytes(), spec, path)
    if not text.strip():
        raise IngestError(f"{path}: the file is empty (expected JSON records with {check.expected})")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        truncated = " (the file ends early: truncated?)" if err.pos >= len(text.rstrip()) - 1 else ""
        raise IngestError(f"{path}: line {err.lineno}, column {err.colno}: not valid JSON: {err.msg}{truncated}") \
            from err
    records = data
    for part in (spec.records or "").split(".") if spec.records else []:
        if not isinstance(records, dict) or part not in records:
            raise IngestError(f"{path}: no '{spec.records}' in the JSON ({spec.where} says `records: {spec.records}`)")
        records = records[part]
    if not isinstance(records, list):
        raise IngestError(f"{path}: '{spec.records or '(top level)'}' is not a list of records")
    header: list[str] = []
    rows: list[SourceRow] = []
    blank: list[int] = []
    for number, record in enumerate(records, start=1):
        if record is None or record == {}:
            blank.append(number)
            continue
        if not isinstance(record, dict):
            rows.append(SourceRow(number, {}, f"record {number} is not an object: {json.dumps(record)[:60]}"))
            continue
        cells = {str(k): (json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v)
                 for k, v in record.items()}
        if _blank(cells.values()):
            blank.append(number)
            continue
        header.extend(k for k in cells if k not in header)
        rows.append(SourceRow(number, cells))
    missing = check.missing(header)
    if missing:
        raise IngestError(f"{path}: no record has required key(s) {', '.join(missing)}; "
                          f"keys seen: {', '.join(header) or 'none'}")
    return Table(header=header, rows=rows, location=f"records at {spec.records or '(top level)'}", blank_rows=blank,
                 physical_rows=len(records))


def normalized_header(header: list[str]) -> dict[str, list[str]]:
    """norm_key(header text) -> the header texts that fold to it, in file order."""
    out: dict[str, list[str]] = {}
    for text in header:
        out.setdefault(norm_key(text), []).append(text)
    return out
