"""What both explanations share: reading the live file or the snapshot, the texts, fact lines.

Both `registry explain` and `registry firm` read the database read-only. While the nightly run holds
the live file, they read the auditors' snapshot instead and say so.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from registry.core import terms
from registry.core.errors import DatabaseBusy
from registry.ledger import snapshot
from registry.store import db as registry_db

KIND_TERMS = terms.labels(terms.KIND, "zh")
KIND_TERMS_EN = terms.labels(terms.KIND, "en")
STATUS_TERMS = terms.labels(terms.STATUS, "zh")
STATUS_TERMS_EN = terms.labels(terms.STATUS, "en")
ROLE_TERMS = {"trigger": ("触发事实", "trigger"), "base": ("计算基数", "base of the amount"),
              "report": ("年报数据", "annual report"), "revocation": ("撤销", "revocation"),
              "retraction": ("来源撤回", "retraction")}

TEXT = {
    "zh": {
        "head": "应享奖励 {eid}（模型日期 {as_of}）",
        "gone": "应享奖励 {eid}（当前模型中已无此项：依据的记录已撤回或不再满足条件）",
        "firm": "企业：{name}（{uscc}），{city}", "policy": "政策：{title}{number} {article}{draft}",
        "draft": "〔征求意见稿〕", "quote": "条款原文：「{quote}」", "reading": "本目录的解读：{reading}",
        "version": "规则版本：{version}（列支时）", "facts": "依据的事实：",
        "earlier": "（仅 {0} 列支时依据，现已更正或撤回，不再计入）",
        "sep": "，", "effective": "生效 {0}", "published": "发布 {0}", "yuan": "{0} 元",
        "source": "      来源：{source} 文件 {file} sha256 {sha}… 第 {row} 行",
        "scale": "认定日规模状态：{scale}", "arith": "金额计算：{text}", "status": "状态：{status}",
        "stack_head": "就高不重复（组 {group}，同一触发事实）：",
        "stack_row": "  {mark} {clause} {amount} 元 → {status}",
        "stack_win": "本条款金额最高（并列时正式文件优先于征求意见稿，再按条款编号），列支",
        "ledger": "台账记录：", "none": "无", "net": "  已列支净额 {net} 元；{held}",
        "line": "  {date} {kind} {amount} 元（行 {line}{orig}）：{reason}；{notice}",
        "orig": "，冲销/调整原列支行 {orig}", "in_notice": "公示中，至 {ends}", "confirmed": "公示期满，{on} 确认",
        "held": "异议暂缓中：{reason}（{actor}，{at} UTC）", "not_held": "无异议暂缓",
        "hold_row": "  {at} UTC {action}：{reason}（{actor}）", "hold": "异议暂缓", "release": "解除暂缓",
        "from_snapshot": "（实时库正在写入，以下读自审计快照 {path}）",
        "cap": "，封顶 {cap} 元", "other": "按“{rule}”规则计算：基数 {base}，应享 {amount} 元",
        "awaiting": "计算所需数据尚未到位，暂无金额", "pro_rata": "；年度预算不足，按比例可付 {payable} 元",
        "base_sum": "依据事实合计",
    },
    "en": {
        "head": "Entitlement {eid} (models as of {as_of})",
        "gone": "Entitlement {eid} (no longer produced by the models: its record was retracted or it no longer "
                "qualifies)",
        "firm": "Firm: {name} ({uscc}), {city}", "policy": "Policy: {title}{number} {article}{draft}",
        "draft": " [draft for comment]", "quote": "Clause text: 「{quote}」", "reading": "Catalog reading: {reading}",
        "version": "Rule version: {version} (when listed)", "facts": "Facts:",
        "earlier": " (used on {0} only; since corrected or retracted, no longer counted)", "sep": ", ",
        "effective": "effective {0}", "published": "published {0}", "yuan": "{0} yuan",
        "source": "      source: {source} file {file} sha256 {sha}… row {row}",
        "scale": "Scale on the trigger date: {scale}", "arith": "Arithmetic: {text}", "status": "Status: {status}",
        "stack_head": "Stacking (就高不重复, group {group}, same triggering event):",
        "stack_row": "  {mark} {clause} {amount} yuan -> {status}",
        "stack_win": "this clause gives the highest award (ties: in-force before draft, then clause id): listed",
        "ledger": "Ledger:", "none": "none", "net": "  net listed {net} yuan; {held}",
        "line": "  {date} {kind} {amount} yuan (line {line}{orig}): {reason}; {notice}",
        "orig": ", adjusts original line {orig}", "in_notice": "in public notice until {ends}",
        "confirmed": "notice ended, confirmed {on}", "held": "held by an objection: {reason} ({actor}, {at} UTC)",
        "not_held": "not held", "hold_row": "  {at} UTC {action}: {reason} ({actor})", "hold": "hold",
        "release": "release", "from_snapshot": "(the live database is being written; read from the snapshot {path})",
        "cap": ", capped at {cap} yuan",
        "other": "rule '{rule}': base {base}, entitled {amount} yuan",
        "awaiting": "the data the amount needs has not arrived: no amount yet",
        "pro_rata": "; yearly budget short: {payable} yuan payable pro rata", "base_sum": "sum of the base facts",
    },
}


@contextmanager
def open_for_reading(db: Path) -> Iterator[tuple[duckdb.DuckDBPyConnection, Path | None]]:
    """The live database read-only, or the auditors' snapshot while a writer holds the live one."""
    try:
        with registry_db.connect(db, read_only=True) as con:
            yield con, None
            return
    except DatabaseBusy:
        copy = snapshot.snapshot_path(db)
        if not copy.exists():
            raise
    with duckdb.connect(str(copy), read_only=True) as con:
        yield con, copy


def fetch_rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def fetch_one(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> dict[str, Any] | None:
    rows = fetch_rows(con, sql, params)
    return rows[0] if rows else None


def money(value: Any) -> str:
    return "—" if value is None else f"{Decimal(value):,.2f}"


def city_label(city: str | None, lang: str, con: duckdb.DuckDBPyConnection | None = None) -> str:
    """The city's name from reference.cities (written from policies/scopes.yml), its code otherwise."""
    found = con.execute("select name from reference.cities where city = ?", [city]).fetchone() \
        if con is not None and city and lang == "zh" and has_table(con, "reference", "cities") else None
    return (found[0] if found else city) or "?"


def has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return con.execute("select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
                       [schema, table]).fetchone()[0] > 0


def facts_of(con: duckdb.DuckDBPyConnection, eid: str, trigger: str, modelled: bool) -> list[dict[str, Any]]:
    """The facts behind an entitlement: those the models use now (audit.entitlement_facts) and
    those frozen with its lines (ledger.line_facts); `earlier` names the nights a fact was used
    on when the models no longer use it (a corrected or retracted record)."""
    frozen = fetch_rows(con, "select f.event_id, f.role, string_agg(distinct cast(l.list_date as varchar), ', ') "
                        "as dates from ledger.line_facts as f join ledger.lines as l using (line_id) "
                        "where l.entitlement_id = ? group by all", [eid])
    now = {(r["event_id"], r["role"]) for r in fetch_rows(
        con, "select event_id, role from audit.entitlement_facts where entitlement_id = ?", [eid])} \
        if modelled and has_table(con, "audit", "entitlement_facts") else set()
    pairs = {(r["event_id"], r["role"]): None if not modelled or (r["event_id"], r["role"]) in now else r["dates"]
             for r in frozen}
    pairs.update({pair: None for pair in now})
    pairs = pairs or {(trigger, "trigger"): None}
    order = list(ROLE_TERMS)
    out = []
    for (event_id, role), earlier in pairs.items():
        event = fetch_one(con, """select e.*, t.term as type_term, a.term as action_term, lv.term as level_term,
                                    ld.file_name
                             from raw.events as e
                             left join reference.event_types as t using (event_type)
                             left join reference.actions as a using (action)
                             left join reference.levels as lv using (level)
                             left join raw.loads as ld using (load_id)
                             where e.event_key = ?""", [event_id])
        if event is not None:
            out.append({**event, "role": role, "earlier": earlier})
    return sorted(out, key=lambda e: (order.index(e["role"]) if e["role"] in order else len(order),
                                      e["earlier"] is not None, e["effective_date"], e["event_key"]))


def fact_lines(t: dict[str, str], lang: str, events: list[dict[str, Any]], roles: bool = True) -> list[str]:
    zh = lang == "zh"
    out = []
    for e in events:
        role = ROLE_TERMS.get(e["role"], (e["role"], e["role"]))[0 if zh else 1]
        what = " ".join(str(v) for v in ((e["type_term"] if zh else None) or e["event_type"],
                                         (e["action_term"] if zh else None) or e["action"],
                                         (e["level_term"] if zh else None) or e["level"]) if v)
        parts = [what, t["effective"].format(e["effective_date"]), t["published"].format(e["published_date"] or "—"),
                 e["document_ref"], e["program"] and f"program={e['program']}",
                 e["amount"] is not None and t["yuan"].format(money(e["amount"]))]
        earlier = t["earlier"].format(e["earlier"]) if e.get("earlier") else ""
        out.append("  " + (f"[{role}] " if roles else "") + t["sep"].join(str(p) for p in parts if p) + earlier)
        out.append(t["source"].format(source=e["source"], file=e["file_name"] or "?", sha=e["file_sha256"][:12],
                                      row=e["row_number"]))
    return out


