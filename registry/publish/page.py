"""The night as a page people look at: `报告_D.html` per night and `index.html` of the nights.

Charts (static SVG written by registry.publish.svg, inlined in the page: no script, no stylesheet or font
from anywhere, so the page opens offline, prints, and is the same bytes on a rerun): the list's
amounts by city, by document and by clause; in force versus draft; fixed versus planned at a
"不超过" cap; what changed since the night before (new, raised, lowered, reversed, held,
released, confirmed); the trend over the nights; and the rows quarantined per source, with
their reasons, among the files landed since the night before. Each chart has its figures in a
table beside it.

It reads only the ledger, raw.loads / raw.quarantine and reference tables, as they stood when
night D was published (loads before the night's `published_at`; nights up to D), so a rerun of D
renders the same page; the index lists every night in the ledger.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from registry.publish import names, svg
from registry.publish.cells import display_width, html_text, xml_text

ZERO = Decimal("0.00")
TOP = 15  # rows of the longest charts (documents, clauses, quarantine reasons)
GREEN, RED, GREY, AMBER, BLUE = "#2e7d32", "#c62828", "#9e9e9e", "#ef8f00", "#1565c0"
CSS = """
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","WenQuanYi Zen Hei","Microsoft YaHei","PingFang SC",
sans-serif;margin:24px auto;max-width:1180px;color:#212121;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ccc;padding-bottom:4px}
.meta{color:#555;font-size:13px}.cards{display:flex;gap:12px;flex-wrap:wrap;margin:16px 0}
.card{border:1px solid #ddd;border-radius:6px;padding:10px 14px;min-width:150px}
.card b{display:block;font-size:20px}.card span{font-size:12px;color:#555}
.row{display:flex;gap:18px;flex-wrap:wrap;align-items:flex-start}.chart svg{max-width:100%;height:auto}
table{border-collapse:collapse;font-size:12.5px;margin:6px 0}td,th{border:1px solid #ddd;padding:3px 7px}
th{background:#f2f2f2}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.neg{color:#c62828}.note{font-size:12px;color:#555}a{color:#1565c0}
@media print{.chart{break-inside:avoid}}
"""


@dataclass(frozen=True)
class NightRow:
    list_date: dt.date
    line_count: int
    total: Decimal
    awards: Decimal
    reversals: Decimal
    published_at: dt.datetime


@dataclass(frozen=True)
class PageData:
    list_date: dt.date
    nights: tuple[NightRow, ...]  # every night in the ledger (the index); the page shows those up to D
    loads: tuple[tuple[str, int, int, int, int, int], ...]  # since the night before: source, files, read, ...
    quarantine: tuple[tuple[str, str, str, int], ...]  # since the night before: source, field, reason, rows


def report_path(output_dir: Path, list_date: dt.date) -> Path:
    return output_dir / names.night_files(list_date)["report"]


def index_path(output_dir: Path) -> Path:
    return output_dir / names.INDEX_NAME


def _has(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return con.execute("select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
                       [schema, table]).fetchone()[0] > 0


def read_page_data(con: duckdb.DuckDBPyConnection, list_date: dt.date) -> PageData:
    nights = tuple(NightRow(*row) for row in con.execute(
        """select s.list_date, s.line_count, s.total,
                  coalesce(sum(l.amount) filter (where l.kind = 'award'), 0),
                  coalesce(sum(l.amount) filter (where l.kind = 'reversal'), 0), s.published_at
           from ledger.lists as s left join ledger.lines as l using (list_date)
           group by all order by s.list_date""").fetchall())
    window = [(n.published_at) for n in nights if n.list_date <= list_date][-2:]
    until = window[-1] if window else dt.datetime.max
    since = window[0] if len(window) == 2 else dt.datetime.min
    loads: tuple = ()
    quarantine: tuple = ()
    # Both times are whole seconds: a load of the night's own second (landed just after it was
    # published, or just before) counts for the next night, never for both, and never for this
    # one only on a rerun; so the page of a night renders the same later.
    if _has(con, "raw", "loads"):
        loads = tuple(con.execute(
            """select source, count(*), sum(rows_read), sum(rows_landed), sum(rows_quarantined), sum(rows_duplicate)
               from raw.loads where ingested_at >= ? and ingested_at < ? group by source order by source""",
            [since, until]).fetchall())
        quarantine = tuple(con.execute(
            """select source, field, reason, count(*) from raw.quarantine
               where ingested_at >= ? and ingested_at < ? group by all order by source, 4 desc, field, reason""",
            [since, until]).fetchall())
    return PageData(list_date, nights, loads, quarantine)


# ---- charts ------------------------------------------------------------------------------------

def _label(text: str, width: int = 40) -> str:
    text = xml_text(" ".join(str(text).split()))
    if display_width(text) <= width:
        return text
    out = ""
    for ch in text:
        if display_width(out + ch) > width - 1:
            break
        out += ch
    return out + "…"


def _wan(value: float) -> str:
    return f"{value / 10000:,.0f}万" if abs(value) >= 10000 else f"{value:,.0f}"


def _count(value: float) -> str:
    return f"{value:,.0f}"


def _barh(items: Sequence[tuple[str, Decimal]], title: str, money: bool = True) -> str:
    """One bar per item, the first on top, green for positive and red for negative amounts."""
    rows = [(_label(name), [svg.Part(name, float(v), GREEN if v >= 0 else RED)]) for name, v in items]
    return svg.stacked_bars(rows, title, _wan if money else _count,
                            value_label=(lambda v: f"{v:,.2f}") if money else _count, whole=not money)


def _two_bars(groups: Sequence[tuple[str, Sequence[tuple[str, Decimal, str]]]], title: str) -> str:
    """Stacked horizontal bars, one per group, each split into parts (label, amount, colour)."""
    return svg.stacked_bars([(_label(name), [svg.Part(part, float(value), colour) for part, value, colour in parts])
                             for name, parts in groups], title, _wan)


def _trend(nights: Sequence[NightRow]) -> str:
    running, cumulative = Decimal(0), []
    for n in nights:
        running += n.total
        cumulative.append(float(running))
    return svg.trend([n.list_date.isoformat() for n in nights],
                     [("奖励", [float(n.awards) for n in nights], GREEN),
                      ("冲销", [float(n.reversals) for n in nights], RED)],
                     ("累计净额", cumulative, BLUE), "历次清单：每晚奖励与冲销，累计净额", _wan)


# ---- the page ----------------------------------------------------------------------------------

def _money(value: Decimal) -> str:
    cls = ' class="n neg"' if value < 0 else ' class="n"'
    return f"<td{cls}>{value:,.2f}</td>"


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    out = ["<table><tr>" + "".join(f"<th>{html_text(h)}</th>" for h in header) + "</tr>"]
    for row in rows:
        cells = [_money(v) if isinstance(v, Decimal) else f'<td class="n">{v:,}</td>' if isinstance(v, int)
                 else f"<td>{html_text(v)}</td>" for v in row]
        out.append("<tr>" + "".join(cells) + "</tr>")
    return "".join(out) + "</table>"


def _grouped(pairs: Iterable[tuple[str, Decimal]]) -> list[tuple[str, int, Decimal]]:
    count: dict[str, int] = defaultdict(int)
    amount: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for key, value in pairs:
        count[key] += 1
        amount[key] += value
    return sorted(((k, count[k], amount[k]) for k in count), key=lambda r: (-abs(r[2]), r[0]))


def _section(title: str, chart: str, table: str, note: str = "") -> str:
    note_html = f'<p class="note">{html_text(note)}</p>' if note else ""
    return (f'<h2>{html_text(title)}</h2>{note_html}<div class="row">'
            f'<div class="chart" data-chart="{html_text(title)}">{chart}</div><div>{table}</div></div>')


def report_html(data: PageData, night: Any) -> bytes:
    """The page of one night (`night`: a registry.publish.exports.Night)."""
    from registry.core import terms
    from registry.publish import reports

    lines = night.lines
    total = night.total
    awards = sum((x.amount for x in lines if x.kind == "award"), ZERO)
    reversals = sum((x.amount for x in lines if x.kind == "reversal"), ZERO)
    held = sum((x.amount for x in lines if x.entitlement_id in night.held), ZERO)
    draft = sum((x.amount for x in lines if x.is_draft), ZERO)
    at_cap = sum((x.amount for x in lines if x.is_cap), ZERO)
    shown = [n for n in data.nights if n.list_date <= data.list_date]
    previous = shown[-2].list_date if len(shown) > 1 else None
    firms = len({x.uscc for x in lines})

    cards = [("本期净额（元）", f'<b id="list-total" data-yuan="{total:.2f}">{total:,.2f}</b>'),
             ("行数 / 企业", f"<b>{len(lines)} / {firms}</b>"), ("奖励（元）", f"<b>{awards:,.2f}</b>"),
             ("冲销（元）", f"<b>{reversals:,.2f}</b>"), ("其中征求意见稿（元）", f"<b>{draft:,.2f}</b>"),
             ("其中按上限（不超过）计列（元）", f"<b>{at_cap:,.2f}</b>"), ("其中异议暂缓（元）", f"<b>{held:,.2f}</b>")]
    parts = [f"<h1>免申即享兑付清单 {data.list_date.isoformat()} 日报</h1>",
             f'<p class="meta">公示期至 {night.notice_ends}；台账校验值（链头）{html_text(night.lines_head or "—")}；'
             f"上一期清单：{previous or '无'}。 <a href=\"{names.INDEX_NAME}\">全部清单</a> · "
             f"{_file_links(data.list_date, ('xlsx', 'csv', 'changes'))}</p>",
             '<div class="cards">'
             + "".join(f'<div class="card">{v}<span>{html_text(k)}</span></div>' for k, v in cards) + "</div>"]

    by_city = _grouped((night.city_name(x.city), x.amount) for x in lines)
    parts.append(_section("按城市", _barh([(k, a) for k, _, a in by_city], "本期净额（元），按城市"),
                          _table(("城市", "行数", "净额（元）"), by_city)))
    by_doc = _grouped((x.document_title, x.amount) for x in lines)
    parts.append(_section("按政策文件", _barh([(k, a) for k, _, a in by_doc[:TOP]], "本期净额（元），按政策文件"),
                          _table(("政策文件", "行数", "净额（元）"), by_doc)))
    by_clause = _grouped((x.clause_id, x.amount) for x in lines)
    parts.append(_section("按条款", _barh([(k, a) for k, _, a in by_clause[:TOP]],
                                          f"本期净额（元），按条款（前 {TOP}）"),
                          _table(("条款编号", "行数", "净额（元）"), by_clause)))
    split = [("文件状态", [("正式", total - draft, GREEN), ("征求意见稿", draft, AMBER)]),
             ("金额性质", [("定额或按实计算", total - at_cap, GREEN), ("按上限计列", at_cap, AMBER)]),
             ("公示状态", [("公示中", total - held, GREEN), ("异议暂缓", held, RED)])]
    parts.append(_section(
        "正式与征求意见稿；定额与按上限（不超过）计列", _two_bars(split, "本期净额的构成（元）"),
        _table(("拆分", "部分", "金额（元）"), [(g, p, v) for g, ps in split for p, v, _ in ps]),
        "征求意见稿的条款照常计算并标明草案；“不超过 X”按上限 X 计列并标明。"))

    changes = _grouped((reports.CHANGE_LABELS[c.change], c.amount) for c in night.changes)
    parts.append(_section(f"与上一期（{previous or '无'}）相比的变动",
                          _barh([(k, a) for k, _, a in changes], "变动金额（元），按变动类型") if changes else
                          "<p>本期无变动。</p>", _table(("变动类型", "笔数", "金额（元）"), changes),
                          "异议暂缓、解除暂缓记录于上一期之后；公示期满确认的金额为确认兑付额（不含暂缓）。"))
    parts.append(_section("历次清单趋势", _trend(shown), _table(
        ("清单日期", "行数", "奖励（元）", "冲销（元）", "净额（元）"),
        [(n.list_date.isoformat(), n.line_count, n.awards, n.reversals, n.total) for n in shown])))

    quarantined = defaultdict(int)
    for source, _field, _reason, count in data.quarantine:
        quarantined[source] += count
    reasons = [(f"{s} · {f}: {r}", c) for s, f, r, c in sorted(data.quarantine, key=lambda q: (-q[3], q[0], q[1]))]
    q_chart = _barh([(k, Decimal(c)) for k, c in reasons[:TOP]], "隔离行数，按来源、字段与原因", money=False) \
        if reasons else "<p>上一期以来没有隔离的行。</p>"
    parts.append(_section(
        "隔离的行（上一期以来落地的文件）", q_chart,
        _table(("来源", "文件数", "读入行", "落地行", "隔离行", "重复行"), data.loads)
        + _table(("来源", "字段", "原因", "行数"), data.quarantine),
        "每行的原始内容、行号与原因见 raw.quarantine；文件的 Great Expectations 结果见 raw.loads。"))
    kinds = ", ".join(f"{k} = {v}" for k, v in terms.labels(terms.KIND).items())
    parts.append(f'<p class="note">金额单位：元，精确到分；数据来自兑付台账（ledger）、raw.loads / raw.quarantine 与 '
                 f"reference 表，与清单文件同一来源。类型：{html_text(kinds)}。</p>")
    return _page(f"免申即享兑付清单 {data.list_date.isoformat()} 日报", parts)


_FILE_LABELS = {"xlsx": "XLSX", "csv": "CSV", "parquet": "Parquet", "changes": "变动报告"}


def _file_links(list_date: dt.date, kinds: Sequence[str]) -> str:
    files = names.night_files(list_date)
    return " · ".join(f'<a href="{html_text(files[kind])}">{_FILE_LABELS[kind]}</a>' for kind in kinds)


def index_html(data: PageData) -> bytes:
    rows = "".join(
        f'<tr><td><a href="{html_text(names.night_files(n.list_date)["report"])}">{n.list_date.isoformat()}</a></td>'
        f'<td class="n">{n.line_count:,}</td>{_money(n.awards)}{_money(n.reversals)}{_money(n.total)}'
        f"<td>{_file_links(n.list_date, ('xlsx', 'csv', 'parquet', 'changes'))}</td></tr>"
        for n in reversed(data.nights))
    table = ("<table><tr><th>清单日期（日报）</th><th>行数</th><th>奖励（元）</th><th>冲销（元）</th>"
             f"<th>净额（元）</th><th>文件</th></tr>{rows}</table>")
    chart = _trend(data.nights) if data.nights else ""
    return _page("免申即享兑付清单：历次清单", ["<h1>免申即享兑付清单：历次清单</h1>",
                                         f'<div class="chart" data-chart="trend">{chart}</div>', table])


def _page(title: str, parts: Sequence[str]) -> bytes:
    body = "\n".join(parts)
    return (f'<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8"><title>{html_text(title)}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}</style></head>'
            f"<body>\n{body}\n</body></html>\n").encode()


def total_shown(content: bytes) -> Decimal | None:
    """The list total a rendered page prints (for the read-back check)."""
    found = re.search(rb'id="list-total" data-yuan="(-?\d+\.\d{2})"', content)
    return Decimal(found.group(1).decode()) if found else None
