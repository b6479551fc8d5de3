"""`registry firm USCC --as-known-on D`: what the registry knew about a firm on day D.

Every event has two times besides its lineage: when it took effect (`effective_date`, valid time)
and when its source published it (`published_date`, known time; empty = known when effective, the
rule the models use). The registry adds a third, its own: `ingested_at`, when the row landed.

An event counts as *known on D* when both hold:
* its source had published it by D: coalesce(published_date, effective_date) <= D, exactly the rule
  int_events_in_force applies to a list date, so this view and the list of night D agree; and
* it had landed by the end of D (Asia/Shanghai): ingested_at < D + 1 day, 00:00 in Shanghai. A
  source's publication is no use to a list that ran before the file arrived.

Events that took effect on or before D but were published or landed after D (back-dated records,
late revocations) are listed apart as "learned later", with the date the registry learned them:
the first list after that date reflects them (an award, or a reversal). Reads raw.events, not the
dbt models, so it works on any database the registry has written, built or not.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from registry.core import vocabulary
from registry.core.errors import NotFound
from registry.explain.common import KIND_TERMS
from registry.store import db as registry_db

SHANGHAI_OFFSET = dt.timedelta(hours=8)  # Asia/Shanghai has no daylight saving time


def landed_by(day: dt.date) -> dt.datetime:
    """The (naive UTC) instant ingested_at must precede to have landed by the end of `day` in Shanghai."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time()) - SHANGHAI_OFFSET


def _learned_on(published: dt.date | None, effective: dt.date, ingested: dt.datetime) -> dt.date:
    landed_local = (ingested + SHANGHAI_OFFSET).date()
    return max(published or effective, landed_local)


def firm_as_known_on(db: Path, uscc: str, day: dt.date) -> str:
    with registry_db.connect(db, read_only=True) as con:
        rows = con.execute(
            """select effective_date, published_date, ingested_at, event_type, action, level, program, amount,
                      document_ref, firm_name, source, row_number, file_sha256
               from raw.events where uscc = ? order by effective_date, event_type, ingested_at""",
            [uscc],
        ).fetchall()
        firm = con.execute(
            "select firm_name, division_code, industry_code from raw.firms where uscc = ? and ingested_at < ? "
            "order by ingested_at desc, row_number desc limit 1", [uscc, landed_by(day)],
        ).fetchone()
        has_ledger = con.execute(
            "select count(*) from information_schema.tables where table_schema = 'ledger' and table_name = 'lines'"
        ).fetchone()[0]
        lines = con.execute(
            "select list_date, kind, amount, clause_id from ledger.lines where uscc = ? and list_date <= ? "
            "order by list_date, clause_id", [uscc, day],
        ).fetchall() if has_ledger else []
    if not rows and firm is None:
        raise NotFound(f"no firm {uscc!r} in the registry (raw.events / raw.firms)")
    cutoff = landed_by(day)
    known = [r for r in rows if (r[1] or r[0]) <= day and r[2] < cutoff]
    later = [r for r in rows if r not in known and r[0] <= day]
    name = firm[0] if firm else next((r[9] for r in rows if r[9]), "?")
    head = f"{name}（{uscc}）" + (f"，登记地 {firm[1]}，行业 {firm[2]}" if firm else "，企业主数据当时未入库")
    out = [head, f"截至 {day}（上海时间当日结束）登记库所知 / as known on {day}:"]
    out += [_event_line(r) for r in known] or ["  （无）"]
    out.append("当日持有 / standing on that day: " + _standing(known, day))
    out.append("当时未知、事后获知（生效在当日之前，发布或入库在其后）/ learned later:")
    out += [_event_line(r) + f"  -> 获知于 {_learned_on(r[1], r[0], r[2])}" for r in later] or ["  （无）"]
    out.append(f"截至 {day} 的兑付清单 / listed by then: " + ("无" if not lines else ""))
    out += [f"  {d} {KIND_TERMS[k]} {amt} 元 {c}" for d, k, amt, c in lines]
    return "\n".join(out)


def _event_line(row: tuple) -> str:
    effective, published, ingested, etype, action, level, program, amount, doc, _name, source, number, _sha = row
    parts = [f"生效 {effective}", f"发布 {published or '—'}", f"入库 {ingested:%Y-%m-%d %H:%M}Z", etype, action,
             level, program, amount, doc]
    return "  " + " ".join(str(p) for p in parts if p not in (None, "")) + f"  [{source} 第{number}行]"


def _standing(known: list[tuple], day: dt.date) -> str:
    """Designations and statuses held on `day` by the known events: the last event of each
    (type, level) in force decides; retractions withdraw the record they name; validity runs out."""
    validity = {t.name: t.validity_years for t in vocabulary.EVENT_TYPES}
    kinds = vocabulary.EVENT_KINDS
    retracted = {(r[3], r[5], r[0]) for r in known if r[4] == "retracted"}
    latest: dict[tuple[str, str | None], tuple] = {}
    order = {"granted": 0, "renewed": 0}
    for row in sorted(known, key=lambda r: (r[0], order.get(r[4], 1))):
        effective, _pub, _ing, etype, action, level = row[:6]
        if kinds.get(etype) not in ("designation", "status") or effective > day or action == "retracted":
            continue
        if (etype, level, effective) in retracted:
            continue
        latest[(etype, level)] = row
    held = []
    for (etype, level), row in sorted(latest.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        years = validity.get(etype)
        if row[4] not in ("granted", "renewed"):
            continue
        if years is not None and _add_years(row[0], years) <= day:
            continue
        held.append(f"{etype}{'/' + level if level else ''}（自 {row[0]}）")
    return "；".join(held) if held else "无"


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)
