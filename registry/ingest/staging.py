"""Step 1 set-based: a file's rows as a DuckDB table of cell texts, each under its row number.

`stage(spec, path, check, con, name)` reads the file and returns a `Staged`: the header, the blank
rows and the physical row count exactly as `registry.ingest.readers` gives them, plus

* `table`: temp table `name` (row_number INTEGER, c0 .. c{n-1} VARCHAR, one column per header
  column): the rows whose cells are plain texts and whose shape is sound, the common case;
* `rows`: every other row as a `readers.SourceRow` (a row with an `issue`, typed XLSX/JSON cells).

A CSV is read by DuckDB (`read_text`, split at line feeds, cells split at the delimiter) when that
gives exactly what Python's `csv` module gives, which is every physical line without a quote mark
whose cell count is the header's. Python reads the rest with the module's own reader: lines with
quote marks (a quoted cell, or a record over several lines: then from that line to the record's end,
as `readers.csv_record_rows` says), lines of another width (shifted, truncated), the first lines (the
header is found as `readers` finds it). A file DuckDB cannot read like Python (a lone carriage
return, a record over several lines in the header area, a delimiter that is a quote or a line
break) is read by `readers.read_table` instead. Every other encoding is decoded by Python (the same
errors, the same line numbers) and handed to DuckDB as UTF-8; XLSX and JSON are read by `readers`
and the plain rows put into the table. Every physical row still ends in exactly one place.
"""

# ruff: noqa: S608  -- SQL assembled from generated column names (c0, c1, ...) and a table name we make
from __future__ import annotations

import codecs
import csv
import io
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from registry.ingest.errors import IngestError
from registry.ingest.readers import (
    HEADER_SCAN_ROWS,
    HeaderCheck,
    SourceRow,
    Table,
    _decode,
    _find_header,
    _records,
    csv_record_rows,
    read_table,
)
from registry.ingest.spec import SourceSpec

# values.clean() strips these from both ends of a cell
EDGE_CHARS = " \t\r\n\u3000\u00a0\ufeff\u200b"
LINE_BATCH = 2000  # lines fetched at a time while Python follows a record over several lines


def sql_text(text: str) -> str:
    """A SQL string literal of any text (control characters as chr() calls)."""
    parts: list[str] = []
    plain = ""
    for ch in text:
        if ch == "'" or ch.isprintable():
            plain += "''" if ch == "'" else ch
            continue
        if plain:
            parts.append(f"'{plain}'")
            plain = ""
        parts.append(f"chr({ord(ch)})")
    if plain or not parts:
        parts.append(f"'{plain}'")
    return "(" + " || ".join(parts) + ")"


EDGE_SQL = sql_text(EDGE_CHARS)


def clean_sql(expr: str) -> str:
    """SQL of values.clean() for a text cell: trimmed of EDGE_CHARS, NULL when nothing is left."""
    return f"nullif(trim({expr}, {EDGE_SQL}), '')"


@dataclass
class Staged:
    header: list[str]
    location: str
    table: str  # temp table: row_number, c0..c{n-1}
    rows: list[SourceRow] = field(default_factory=list)  # rows read in Python (issues, typed cells)
    header_row: int | None = None
    blank_rows: list[int] = field(default_factory=list)
    physical_rows: int = 0
    warnings: list[str] = field(default_factory=list)
    reader: str = "duckdb"  # duckdb | python: who read the file's lines

    @property
    def width(self) -> int:
        return len(self.header)


def cell_column(index: int) -> str:
    return f"c{index}"


def create_table(con: duckdb.DuckDBPyConnection, name: str, width: int) -> None:
    columns = ", ".join(f"{cell_column(i)} varchar" for i in range(width))
    con.execute(f"create or replace temp table {name} (row_number integer{', ' if columns else ''}{columns})")


def plain(row: SourceRow, header: list[str]) -> bool:
    """A row whose cells are all text (or empty) and whose shape is sound: its checks can run in SQL."""
    return row.issue is None and all(v is None or isinstance(v, str) for v in row.cells.values()) and \
        set(row.cells) <= set(header)


def append_rows(con: duckdb.DuckDBPyConnection, name: str, header: list[str], rows: list[SourceRow]) -> None:
    """Insert plain rows (`plain`) into the staged table; a cell the row does not reach is NULL."""
    if not rows:
        return
    columns = ["row_number", *(cell_column(i) for i in range(len(header)))]
    frame = pd.DataFrame([[row.number, *(row.cells.get(h) for h in header)] for row in rows], columns=columns,
                         dtype="object")
    con.register("_staged_rows", frame)
    try:
        con.execute(f"insert into {name} select row_number::integer, "
                    + ", ".join(f"{c}::varchar" for c in columns[1:]) + " from _staged_rows")
    finally:
        con.unregister("_staged_rows")


def from_table(con: duckdb.DuckDBPyConnection, name: str, table: Table, reader: str = "python") -> Staged:
    """A table read by `readers` (XLSX, JSON, or a CSV DuckDB does not read): plain rows into SQL."""
    create_table(con, name, len(table.header))
    fast = [row for row in table.rows if plain(row, table.header)]
    append_rows(con, name, table.header, fast)
    fast_numbers = {row.number for row in fast}
    return Staged(header=table.header, location=table.location, table=name,
                  rows=[row for row in table.rows if row.number not in fast_numbers], header_row=table.header_row,
                  blank_rows=table.blank_rows, physical_rows=table.physical_rows, warnings=table.warnings,
                  reader=reader)


def stage(spec: SourceSpec, path: Path, check: HeaderCheck, con: duckdb.DuckDBPyConnection, name: str) -> Staged:
    """Step 1 for `path` as `spec`: see the module docstring."""
    staged = _stage_csv(spec, path, check, con, name) if spec.format == "csv" else None
    if staged is None:
        staged = from_table(con, name, read_table(spec, path, check))
    return staged


# ------------------------------------------------------------------------------------------------ CSV


def _stage_csv(spec: SourceSpec, path: Path, check: HeaderCheck, con: duckdb.DuckDBPyConnection,
               name: str) -> Staged | None:
    """The CSV read by DuckDB, or None when only Python's reader gives the right rows for it."""
    delimiter = spec.delimiter
    if len(delimiter) != 1 or delimiter in '"\r\n' or not path.is_file() or path.stat().st_size == 0:
        return None
    encoding = codecs.lookup(spec.encoding).name
    lines = f"{name}_lines"
    with tempfile.TemporaryDirectory(prefix="registry-stage-") as tmp:
        source = path
        if encoding not in ("utf-8", "utf-8-sig"):
            text = _decode(path.read_bytes(), spec, path)  # the reader's own errors for a wrong encoding
            try:
                data = text.encode("utf-8")
            except UnicodeEncodeError:
                return None
            source = Path(tmp) / "utf8.csv"
            source.write_bytes(data)
            del text, data
        try:
            con.execute(f"""create or replace temp table {lines} as
                select generate_subscripts(s, 1) as n, unnest(s) as line
                from (select string_split(content, chr(10)) as s from read_text(?))""", [str(source)])
        except duckdb.InvalidInputException:
            _decode(path.read_bytes(), spec, path)  # raises the reader's error, naming the line
            return None
    try:
        return _split(spec, path, check, con, name, lines, utf8=source == path)
    finally:
        con.execute(f"drop table if exists {lines}")


def _split(spec: SourceSpec, path: Path, check: HeaderCheck, con: duckdb.DuckDBPyConnection, name: str,
           lines: str, *, utf8: bool) -> Staged | None:
    elements, last_line = con.execute(
        f"select count(*), (select line from {lines} where n = (select max(n) from {lines})) from {lines}").fetchone()
    total = elements - 1 if elements > 1 and last_line == "" else elements  # a final line feed ends the last line
    lone_cr = con.execute(f"select count(*) from {lines} where n <= ? and strpos(line, chr(13)) between 1 and "
                          "length(line) - 1", [total]).fetchone()[0]
    if lone_cr:
        return None  # a carriage return alone is a line break to Python: read it there

    def fetch(first: int, count: int) -> list[str]:
        """Physical lines first.. (at most count) as Python reads them: terminators kept."""
        got = con.execute(f"select n, line from {lines} where n >= ? and n <= ? order by n",
                          [first, min(first + count - 1, total)]).fetchall()
        out = []
        for n, line in got:
            if n == 1 and utf8 and line.startswith("\ufeff"):
                line = line[1:]  # utf-8-sig: Python drops a leading byte-order mark
            out.append(line + ("\n" if n < elements else ""))
        return out

    limit = (spec.header_row or HEADER_SCAN_ROWS) + HEADER_SCAN_ROWS
    head_lines = fetch(1, limit + 1)
    head_text = "".join(head_lines)
    if not head_text.strip():
        return None  # an empty or all-blank start: the reader says what is wrong
    records = _records(head_text, spec, path)
    if any(last != first for first, last, _ in records if first <= limit):
        return None  # a record over several lines near the header: the reader handles it
    head = [(n, c) for n, _, c in records if n <= limit]
    header_line, header = _find_header(spec, path, head, check, "")
    width = len(header)
    delimiter = sql_text(spec.delimiter)
    create_table(con, name, width)
    body = f"""
        with body as (
            select n, case when ends_with(line, chr(13)) then left(line, length(line) - 1) else line end as t
            from {lines} where n > {header_line} and n <= {total}),
        classified as (
            select n, t, contains(t, '"') as quoted,
                   trim(replace(t, {delimiter}, ''), {EDGE_SQL}) = '' as empty
            from body)"""
    columns = ", ".join(f"s[{i + 1}] as {cell_column(i)}" for i in range(width))
    con.execute(f"""insert into {name} {body}
        select n, {columns} from (
            select n, string_split(t, {delimiter}) as s from classified where not quoted and not empty)
        where len(s) = {width}""")
    blank = [n for (n,) in con.execute(
        f"{body} select n from classified where not quoted and empty order by n").fetchall()]
    odd = con.execute(f"""{body} select n, t, quoted from classified where quoted or (not empty and
                          len(string_split(t, {delimiter})) <> {width}) order by n""").fetchall()
    rows, spans, odd_blank = _python_lines(spec, header, odd, fetch, total)
    if spans:
        con.execute(f"create or replace temp table {name}_spans (first integer, last integer)")
        con.executemany(f"insert into {name}_spans values (?, ?)", spans)
        con.execute(f"delete from {name} where exists (select 1 from {name}_spans as s "
                    f"where {name}.row_number between s.first and s.last)")
        con.execute(f"drop table {name}_spans")
        inside = _covered(spans)
        blank = [n for n in blank if not inside(n)]
    plain_rows = [row for row in rows if plain(row, header)]
    append_rows(con, name, header, plain_rows)
    plain_numbers = {row.number for row in plain_rows}
    return Staged(header=header, location=f"header on line {header_line}", table=name,
                  rows=[row for row in rows if row.number not in plain_numbers], header_row=header_line,
                  blank_rows=sorted(blank + odd_blank), physical_rows=max(total - header_line, 0))


def _covered(spans: list[tuple[int, int]]) -> Any:
    ordered = sorted(spans)

    def inside(n: int) -> bool:
        import bisect

        at = bisect.bisect_right(ordered, (n, float("inf"))) - 1
        return at >= 0 and ordered[at][0] <= n <= ordered[at][1]

    return inside


def _python_lines(spec: SourceSpec, header: list[str], odd: list[tuple[int, str, bool]], fetch: Any,
                  total: int) -> tuple[list[SourceRow], list[tuple[int, int]], list[int]]:
    """The lines DuckDB does not split, read by Python's csv module exactly as `readers` reads them:
    (rows, spans of records over several lines, blank lines)."""
    rows: list[SourceRow] = []
    blank: list[int] = []
    spans: list[tuple[int, int]] = []
    consumed = 0  # the last line a record over several lines took
    delimiter = spec.delimiter
    for n, text, quoted in odd:
        if n <= consumed:
            continue
        if not quoted:
            got, empty = csv_record_rows(header, n, n, text.split(delimiter), [text], total, delimiter)
        else:
            try:
                cells = next(csv.reader([text], delimiter=delimiter, strict=True), [])
                last = n
            except csv.Error:  # maybe a quoted value over several lines: read on from here, as the reader does
                cells, last, lines = _record_from(n, fetch, delimiter, total)
                if last > n:
                    spans.append((n, last))
                    consumed = last
                    got, empty = csv_record_rows(header, n, last, cells, lines, total, delimiter)
                    rows += got
                    blank += empty
                    continue
            got, empty = csv_record_rows(header, n, n, cells, [text], total, delimiter)
        rows += got
        blank += empty
    return rows, spans, blank


def _record_from(first: int, fetch: Any, delimiter: str, total: int) -> tuple[list[str], int, list[str]]:
    """The first CSV record starting at physical line `first` (Python's reader, not strict):
    (cells, its last line, its lines)."""
    taken: list[str] = []

    def stream() -> Iterator[str]:
        at = first
        while at <= total:
            batch = fetch(at, LINE_BATCH)
            if not batch:
                return
            for line in batch:
                taken.append(line)
                yield line
            at += len(batch)

    limit = csv.field_size_limit()
    csv.field_size_limit(max(limit, 1 << 31 - 1))  # an unclosed quote may swallow the rest of the file
    try:
        reader = csv.reader(stream(), delimiter=delimiter)
        cells = next(reader, [])
        last = first + reader.line_num - 1
    except csv.Error as err:
        raise IngestError(f"line {first}: not readable as CSV ({err})") from err
    finally:
        csv.field_size_limit(limit)
    return cells, last, taken[: last - first + 1]


def _unused() -> None:  # pragma: no cover - keeps io imported for type checkers of older Pythons
    io.StringIO()
