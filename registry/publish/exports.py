"""The published list as files a finance office opens, written once per night and never edited.

For night D, in the output folder (beside the database in `lists/`, or $REGISTRY_OUTPUT):
  免申即享兑付清单_D.csv      the list, UTF-8 with BOM (Excel shows the Chinese)
  免申即享兑付清单_D.xlsx     one sheet per city, a totals sheet (合计) and the changes (变动说明)
  免申即享兑付清单_D.parquet  the list lines, typed (decimal yuan, dates), for data tools
  清单变动报告_D.csv          what is new, raised, lowered, reversed, held, released, confirmed, and why

Every file is a pure function of the ledger as it stood when D was published (no clock, no
path of the machine inside), written to a temporary file, made read-only (0444) and renamed
into place, and read back: its line count and total must equal the ledger's list record.
A rerun of D finds identical bytes and writes nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb

from registry.catalog import amount_rules
from registry.core import terms
from registry.core.errors import RegistryError
from registry.ledger import append as ledger
from registry.ledger.append import Line
from registry.ledger.holds import held_now
from registry.publish import reports

CITY_LABELS = {"fuzhou": "福州市", "xiamen": "厦门市", "hangzhou": "杭州市"}
READ_ONLY = 0o444

LIST_HEADER = ("序号", "清单日期", "统一社会信用代码", "企业名称", "所在城市", "政策文件", "条款", "条款编号",
               "类型", "本次列支金额（元）", "应享金额（元）", "金额性质", "文件状态", "应享奖励编号", "说明",
               "可付金额（元）", "清单行号", "原列支行号", "原因代码", "公示状态")
AMOUNT_COLUMNS = {"本次列支金额（元）", "应享金额（元）", "可付金额（元）"}
CHANGE_HEADER = ("变动类型", "统一社会信用代码", "企业名称", "所在城市", "条款编号", "应享奖励编号", "清单行号",
                 "原列支行号", "金额（元）", "说明", "记录人", "记录时间")
TOTALS_HEADER = ("所在城市", "奖励笔数", "奖励金额（元）", "冲销笔数", "冲销金额（元）", "本期净额（元）",
                 "其中异议暂缓（元）", "不含暂缓净额（元）")
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


def read_night(con: duckdb.DuckDBPyConnection, list_date: dt.date) -> Night:
    notice_ends, head, count, total = con.execute(
        "select notice_ends, lines_head, line_count, total from ledger.lists where list_date = ?",
        [list_date]).fetchone()
    return Night(list_date, tuple(ledger.lines_for(con, list_date)), frozenset(held_now(con, list_date)),
                 tuple(reports.night_changes(con, list_date)), notice_ends, head, count, total)


def rule_label(line: Line) -> str:
    capped = line.is_cap and line.amount_rule != "up_to"
    return amount_rules.label(line.amount_rule) + ("，已封顶" if capped else "")


def _yuan(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


def notice_label(night: Night, line: Line) -> str:
    return "异议暂缓" if line.entitlement_id in night.held else f"公示中（至 {night.notice_ends}）"


def list_rows(night: Night) -> list[tuple[str, ...]]:
    return [
        (str(i), line.list_date.isoformat(), line.uscc, line.firm_name or "", CITY_LABELS.get(line.city or "", ""),
         line.document_title, line.article, line.clause_id, terms.label(terms.KIND, line.kind), _yuan(line.amount),
         _yuan(line.entitled_amount), rule_label(line), "征求意见稿（草案）" if line.is_draft else "正式",
         line.entitlement_id, line.reason, _yuan(line.payable_amount), line.line_id, line.original_line_id or "",
         line.reason_code, notice_label(night, line))
        for i, line in enumerate(night.lines, start=1)
    ]


def change_rows(night: Night) -> list[tuple[str, ...]]:
    return [(c.label, c.uscc, c.firm_name, CITY_LABELS.get(c.city, c.city), c.clause_id, c.entitlement_id, c.line_id,
             c.original_line_id, _yuan(c.amount), c.reason, c.actor, c.recorded_at) for c in night.changes]


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[str]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _city_totals(night: Night) -> list[tuple]:
    out = []
    for city in sorted({line.city or "" for line in night.lines}, key=_city_order):
        lines = [line for line in night.lines if (line.city or "") == city]
        awards = [line.amount for line in lines if line.kind == "award"]
        reversals = [line.amount for line in lines if line.kind == "reversal"]
        held = sum((line.amount for line in lines if line.entitlement_id in night.held), ledger.ZERO)
        net = sum(awards, ledger.ZERO) + sum(reversals, ledger.ZERO)
        out.append((_city_name(city), len(awards), sum(awards, ledger.ZERO), len(reversals),
                    sum(reversals, ledger.ZERO), net, held, net - held))
    return out


def _city_order(city: str) -> tuple[int, str]:
    return (list(CITY_LABELS).index(city) if city in CITY_LABELS else len(CITY_LABELS), city)


def _city_name(city: str) -> str:
    return CITY_LABELS.get(city, city or "未知城市")


def xlsx_bytes(night: Night) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.writer.excel import ExcelWriter

    moment = dt.datetime.combine(night.list_date, dt.time())
    book = Workbook()
    book.properties.creator = "registry"
    book.properties.created = book.properties.modified = moment
    bold = Font(bold=True)

    def sheet(title: str, header: Sequence[str], rows: Iterable[Sequence[object]], amounts: set[int]) -> None:
        ws = book.create_sheet(title)
        ws.append(list(header))
        for cell in ws[1]:
            cell.font = bold
        for row in rows:
            ws.append([Decimal(v) if i in amounts and v != "" else v for i, v in enumerate(row)])
        for column in amounts:
            for (cell,) in ws.iter_rows(min_row=2, min_col=column + 1, max_col=column + 1):
                cell.number_format = "#,##0.00"
        ws.freeze_panes = "A2"

    book.remove(book.active)
    totals = _city_totals(night)
    grand = ("合计", *(sum((t[i] for t in totals), 0 if i in (1, 3) else ledger.ZERO) for i in range(1, 8)))
    meta = [(), ("清单日期", night.list_date.isoformat()), ("公示期截止", night.notice_ends.isoformat()),
            ("行数", night.line_count), ("台账校验值（链头）", night.lines_head or "")]
    sheet("合计", TOTALS_HEADER, [*totals, grand, *meta], {2, 4, 5, 6, 7})
    amount_idx = {i for i, name in enumerate(LIST_HEADER) if name in AMOUNT_COLUMNS}
    rows = list_rows(night)
    for city in sorted({line.city or "" for line in night.lines}, key=_city_order):
        sheet(_city_name(city), LIST_HEADER,
              [row for row, line in zip(rows, night.lines, strict=True) if (line.city or "") == city], amount_idx)
    sheet("变动说明", CHANGE_HEADER, change_rows(night), {CHANGE_HEADER.index("金额（元）")})

    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(book, archive).save()
    return _fixed_zip(raw.getvalue(), night.list_date)


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


def parquet_bytes(night: Night) -> bytes:
    columns = ", ".join(f"{name} {kind}" for name, kind in PARQUET_COLUMNS)
    with tempfile.TemporaryDirectory() as folder, duckdb.connect() as con:
        con.execute(f"create table list_lines ({columns})")
        if night.lines:
            con.executemany(
                f"insert into list_lines values ({', '.join('?' * len(PARQUET_COLUMNS))})",  # noqa: S608
                [[getattr(line, name) for name, _ in PARQUET_COLUMNS[:-1]] + [line.entitlement_id in night.held]
                 for line in night.lines])
        path = Path(folder) / "list.parquet"
        con.execute("copy (select * from list_lines order by seq) to ? (format parquet, compression zstd)",
                    [str(path)])
        return path.read_bytes()


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


def list_csv_path(output_dir: Path, list_date: dt.date) -> Path:
    return output_dir / f"免申即享兑付清单_{list_date.isoformat()}.csv"


def export_paths(output_dir: Path, list_date: dt.date) -> dict[str, Path]:
    stem = f"免申即享兑付清单_{list_date.isoformat()}"
    return {"csv": output_dir / f"{stem}.csv", "xlsx": output_dir / f"{stem}.xlsx",
            "parquet": output_dir / f"{stem}.parquet",
            "changes": output_dir / f"清单变动报告_{list_date.isoformat()}.csv"}


def write_list_csv(output_dir: Path, night: Night) -> Path:
    path = export_paths(output_dir, night.list_date)["csv"]
    write_atomically(path, csv_bytes(LIST_HEADER, list_rows(night)))
    return path


def write_other_exports(output_dir: Path, night: Night) -> dict[str, Path]:
    paths = export_paths(output_dir, night.list_date)
    write_atomically(paths["xlsx"], xlsx_bytes(night))
    write_atomically(paths["parquet"], parquet_bytes(night))
    write_atomically(paths["changes"], csv_bytes(CHANGE_HEADER, change_rows(night)))
    return paths


def verify_exports(output_dir: Path, night: Night) -> None:
    """Read every export back: its lines and total must be the ledger's list record."""
    from openpyxl import load_workbook

    paths = export_paths(output_dir, night.list_date)
    found: dict[str, tuple[int, Decimal]] = {}
    rows = list(csv.DictReader(io.StringIO(paths["csv"].read_bytes().decode("utf-8-sig"))))
    found["csv"] = (len(rows), sum((Decimal(r["本次列支金额（元）"]) for r in rows), ledger.ZERO))
    with duckdb.connect() as con:
        count, total = con.execute("select count(*), coalesce(sum(amount), 0) from read_parquet(?)",
                                   [str(paths["parquet"])]).fetchone()
    found["parquet"] = (count, total)
    book = load_workbook(paths["xlsx"], read_only=True)
    column = LIST_HEADER.index("本次列支金额（元）")
    amounts = [Decimal(str(row[column])) for ws in book.worksheets if ws.title not in ("合计", "变动说明")
               for row in ws.iter_rows(min_row=2, values_only=True)]
    found["xlsx"] = (len(amounts), sum(amounts, ledger.ZERO))
    book.close()
    wrong = {name: got for name, got in found.items() if got != (night.line_count, night.total)}
    if wrong:
        raise ExportError(f"exports of {night.list_date} do not add up to the ledger's {night.line_count} lines / "
                          f"{night.total} yuan: {wrong}")
