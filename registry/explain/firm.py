"""`registry firm USCC`: a firm's timeline: its events, its tier over time, its entitlements and
what the ledger listed for it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from registry.core.errors import NotFound
from registry.explain.common import (
    KIND_TERMS,
    KIND_TERMS_EN,
    STATUS_TERMS,
    STATUS_TERMS_EN,
    TEXT,
    fact_lines,
    fetch_one,
    fetch_rows,
    has_table,
    money,
    open_for_reading,
)

FIRM_TEXT = {
    "zh": {"head": "{name}（{uscc}），{city}，行业 {industry}", "events": "事件：", "tiers": "梯度变化：",
           "tier": "  {start} 起 {term}", "no_tier": "  （无梯度认定）",
           "flags": "截至 {as_of}：梯度 {tier}；高企 {hitech}；规上 {above}", "yes": "是", "no": "否",
           "ents": "应享奖励（模型日期 {as_of}）：",
           "ent": "  {eid} {clause} 触发 {date} 应享 {amount} 可付 {payable} → {status}",
           "ledger": "兑付台账：", "line": "  {date} {kind} {amount} 元 {clause}（{eid}）{reason}",
           "totals": "  合计：列支 {awards} 元，冲销 {reversals} 元，净额 {net} 元；其中异议暂缓 {held} 元"},
    "en": {"head": "{name} ({uscc}), {city}, industry {industry}", "events": "Events:", "tiers": "Tier over time:",
           "tier": "  from {start}: {term}", "no_tier": "  (no tier designation)",
           "flags": "As of {as_of}: tier {tier}; hitech {hitech}; above scale {above}", "yes": "yes", "no": "no",
           "ents": "Entitlements (models as of {as_of}):",
           "ent": "  {eid} {clause} trigger {date} entitled {amount} payable {payable} -> {status}",
           "ledger": "Ledger:", "line": "  {date} {kind} {amount} yuan {clause} ({eid}) {reason}",
           "totals": "  totals: listed {awards}, reversed {reversals}, net {net} yuan; held {held} yuan"},
}


def _tiers(con: duckdb.DuckDBPyConnection, uscc: str, lang: str) -> list[tuple[Any, str]]:
    """The firm's tier after each change (marts.fct_firm_tier_history: the models' own periods)."""
    rows = con.execute("select valid_from, tier_rank, case when ? = 'zh' then tier_term else tier end "
                       "from marts.fct_firm_tier_history where uscc = ? order by valid_from", [lang, uscc]).fetchall()
    return [(day, term if rank is not None else "—") for day, rank, term in rows]


def firm_timeline(db: Path, uscc: str, lang: str = "zh") -> str:
    t, et = FIRM_TEXT[lang], TEXT[lang]
    with open_for_reading(db) as (con, copy):
        firm = fetch_one(con, "select * from marts.dim_firms where uscc = ?", [uscc]) \
            if has_table(con, "marts", "dim_firms") else None
        if firm is None:
            raise NotFound(f"no firm {uscc!r} in the registry")
        events = fetch_rows(con, """select e.event_key as event_id, '' as role, e.*, t.term as type_term,
                                      a.term as action_term, lv.term as level_term, ld.file_name
                               from raw.events as e left join reference.event_types as t using (event_type)
                               left join reference.actions as a using (action)
                               left join reference.levels as lv using (level)
                               left join raw.loads as ld using (load_id)
                               where e.uscc = ? order by e.effective_date, e.event_type, e.row_number""", [uscc])
        tiers = _tiers(con, uscc, lang) if has_table(con, "marts", "fct_firm_tier_history") else []
        status = fetch_one(con, "select s.*, b.as_of_date from marts.fct_firm_status as s "
                           "cross join marts.build_info as b where s.uscc = ?", [uscc]) \
            if has_table(con, "marts", "fct_firm_status") else None
        ents = fetch_rows(con, "select e.*, b.as_of_date from marts.fct_entitlements as e "
                          "cross join marts.build_info as b where e.uscc = ? order by e.trigger_date, e.clause_id",
                     [uscc]) if has_table(con, "marts", "fct_entitlements") else []
        lines = fetch_rows(con, "select * from ledger.lines where uscc = ? order by seq", [uscc])
        held = {e for (e,) in con.execute(
            "select entitlement_id from ledger.holds group by entitlement_id "
            "having arg_max(action, hold_seq) = 'hold'").fetchall()}
    out = [et["from_snapshot"].format(path=copy)] if copy else []
    out.append(t["head"].format(name=firm["firm_name"], uscc=uscc, city=firm.get("city_name") or firm.get("city")
                                or "?", industry=firm.get("industry_code") or "?"))
    out += [t["events"], *fact_lines(et, lang, events, roles=False)]
    out.append(t["tiers"])
    out += [t["tier"].format(start=day, term=term) for day, term in tiers] or [t["no_tier"]]
    if status:
        yes_no = {True: t["yes"], False: t["no"]}
        out.append(t["flags"].format(as_of=status["as_of_date"], tier=status.get("tier_term") or "—",
                                     hitech=yes_no[bool(status["is_hitech"])],
                                     above=yes_no[bool(status["is_above_scale"])]))
    statuses = STATUS_TERMS if lang == "zh" else STATUS_TERMS_EN
    if ents:
        out.append(t["ents"].format(as_of=ents[0]["as_of_date"]))
        out += [t["ent"].format(eid=e["entitlement_id"], clause=e["clause_id"], date=e["trigger_date"],
                                amount=money(e["entitled_amount"]), payable=money(e.get("payable_amount")),
                                status=statuses.get(e["status"], e["status"])) for e in ents]
    kinds = KIND_TERMS if lang == "zh" else KIND_TERMS_EN
    out.append(t["ledger"] + ("" if lines else et["none"]))
    for line in lines:
        reason = line["reason"] if lang == "zh" else line["reason_code"]
        out.append(t["line"].format(date=line["list_date"], kind=kinds[line["kind"]], amount=money(line["amount"]),
                                    clause=line["clause_id"], eid=line["entitlement_id"], reason=reason))
    if lines:
        awards = sum(line["amount"] for line in lines if line["kind"] == "award")
        reversals = sum(line["amount"] for line in lines if line["kind"] == "reversal")
        held_amount = sum(line["amount"] for line in lines if line["entitlement_id"] in held)
        out.append(t["totals"].format(awards=money(awards), reversals=money(reversals),
                                      net=money(awards + reversals), held=money(held_amount)))
    return "\n".join(out)
