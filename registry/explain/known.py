"""`registry firm USCC --as-known-on D`: what the registry knew about a firm on day D.

Every record has two times besides its lineage: when it took effect (`effective_date`, valid time)
and when its source published it (`published_date`, known time). The registry adds its own: when it
had the record for a night. Which records count as *known on D* is decided once, in SQL
(`audit.event_knowledge`, dbt_project/models/audit/aud_event_knowledge.sql): published by D and taken
in by a night for a date on or before D (or landed by the end of D, when no night has taken it in
yet). So the records listed here are exactly those the night of D was built from.

The firm's standing that day comes from `audit.firm_standing_on(uscc, D)`, the night's own rules
(retractions, validity spells, tier) applied to the records known on D. Records that took effect by
D but were known only later are listed apart as "learned later", with the day the registry learned
them: the first list after that day reflects them (an award, or a reversal). This module only reads
those results; it derives nothing.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from registry.core.errors import NotFound, RegistryError
from registry.explain.common import KIND_TERMS, fetch_rows, has_table, open_for_reading

SHANGHAI_OFFSET = dt.timedelta(hours=8)  # Asia/Shanghai has no daylight saving time


class NotBuiltYet(RegistryError):
    """The knowledge views come with the models: no night has been built on this database yet."""

    hint = "run a night first (`registry nightly --date D`): the audit views that answer this are built with it"


def landed_by(day: dt.date) -> dt.datetime:
    """The (naive UTC) instant ingested_at must precede to have landed by the end of `day` in Shanghai."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time()) - SHANGHAI_OFFSET


def _events(con: duckdb.DuckDBPyConnection, uscc: str, day: dt.date) -> list[dict]:
    return fetch_rows(con, """
        select e.effective_date, e.published_date, e.ingested_at, e.event_type, e.action, e.level, e.program,
               e.amount, e.document_ref, e.firm_name, e.source, e.row_number, k.known_on
        from raw.events as e
        inner join audit.event_knowledge as k on k.event_id = e.event_key
        where e.uscc = ? and e.effective_date <= ?
        order by e.effective_date, e.event_type, e.ingested_at, e.row_number""", [uscc, day])


def firm_as_known_on(db: Path, uscc: str, day: dt.date) -> str:
    with open_for_reading(db) as (con, _copy):
        if not has_table(con, "audit", "event_knowledge"):
            raise NotBuiltYet(f"{db} has no audit.event_knowledge view yet")
        events = _events(con, uscc, day)
        firm = con.execute(
            "select firm_name, division_code, industry_code from raw.firms where uscc = ? and ingested_at < ? "
            "order by ingested_at desc, row_number desc limit 1", [uscc, landed_by(day)],
        ).fetchone()
        any_event = con.execute("select count(*) from raw.events where uscc = ?", [uscc]).fetchone()[0]
        held = fetch_rows(con, "select * from audit.firm_standing_on(?, ?) order by event_type, level, valid_from",
                          [uscc, day])
        lines = con.execute(
            "select list_date, kind, amount, clause_id from ledger.lines where uscc = ? and list_date <= ? "
            "order by list_date, clause_id", [uscc, day],
        ).fetchall()
    if not any_event and firm is None:
        raise NotFound(f"no firm {uscc!r} in the registry (raw.events / raw.firms)")
    known = [e for e in events if e["known_on"] <= day]
    later = [e for e in events if e["known_on"] > day]
    name = firm[0] if firm else next((e["firm_name"] for e in events if e["firm_name"]), "?")
    head = f"{name}（{uscc}）" + (f"，登记地 {firm[1]}，行业 {firm[2]}" if firm else "，企业主数据当时未入库")
    out = [head, f"截至 {day}（当晚清单所依据）登记库所知 / as known on {day}:"]
    out += [_event_line(e) for e in known] or ["  （无）"]
    out.append("当日持有 / standing on that day: " + _standing(held))
    out.append("当时未知、事后获知（生效在当日之前，发布或入库在其后）/ learned later:")
    out += [_event_line(e) + f"  -> 获知于 {e['known_on']}" for e in later] or ["  （无）"]
    out.append(f"截至 {day} 的兑付清单 / listed by then: " + ("无" if not lines else ""))
    out += [f"  {d} {KIND_TERMS[k]} {amt} 元 {c}" for d, k, amt, c in lines]
    return "\n".join(out)


def _event_line(e: dict) -> str:
    parts = [f"生效 {e['effective_date']}", f"发布 {e['published_date'] or '—'}",
             f"入库 {e['ingested_at']:%Y-%m-%d %H:%M}Z", e["event_type"], e["action"], e["level"], e["program"],
             e["amount"], e["document_ref"]]
    return "  " + " ".join(str(p) for p in parts if p not in (None, "")) + f"  [{e['source']} 第{e['row_number']}行]"


def _standing(held: list[dict]) -> str:
    """The designations and statuses held (audit.firm_standing_on), as `type/level（自 valid_from）`."""
    items = [f"{h['event_type']}{'/' + h['level'] if h['level'] else ''}（自 {h['valid_from']}）" for h in held]
    return "；".join(items) if items else "无"
