"""`registry explain ID`: why a list line exists. Chinese by default, English with `--lang en`
(quoted policy text stays Chinese). An entitlement that the models no longer produce (its record was
retracted) is explained from the ledger, which keeps every line and its facts.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from registry.catalog import amount_rules
from registry.core import terms
from registry.core.errors import NotFound
from registry.explain.common import (
    KIND_TERMS,
    KIND_TERMS_EN,
    STATUS_TERMS,
    STATUS_TERMS_EN,
    TEXT,
    city_label,
    fact_lines,
    facts_of,
    fetch_one,
    fetch_rows,
    has_table,
    money,
    open_for_reading,
)
from registry.ledger import append as ledger


class _Blank(dict):
    """Template values; a key the rule's template names but the clause does not carry reads as '—'."""

    def __missing__(self, key: str) -> str:
        return "—"


def _arithmetic(t: dict[str, str], lang: str, ent: dict[str, Any], clause: dict[str, Any],
                events: list[dict[str, Any]]) -> str:
    """The arithmetic in words, from the rule's own template (registry.catalog.amount_rules)."""
    rule, amount = amount_rules.RULES.get(ent.get("amount_rule") or ""), ent.get("entitled_amount")
    if amount is None:
        text = t["awaiting"]
    elif rule is None:
        text = t["other"].format(rule=ent.get("amount_rule"), base=money(ent.get("base_amount")), amount=money(amount))
    else:
        params = json.loads(clause.get("amount_parameters") or "{}")
        values = _Blank({key: money(value) if key.endswith("yuan") else value for key, value in params.items()})
        values.update(yuan=money(params.get("amount_yuan") or amount), amount=money(amount),
                      label=rule.label(lang), base=money(ent.get("base_amount")), cap="")
        for key in ("min_growth_percent", "percent"):
            if params.get(key) is not None:
                values[key] = f"{Decimal(params[key]).normalize():f}"
        if ent.get("base_amount") is not None and params.get("percent") is not None:
            base, percent = Decimal(ent["base_amount"]), Decimal(params["percent"])
            bases = [e for e in events if e["role"] == "base" and e["amount"] is not None and not e["earlier"]]
            values["base_what"] = " + ".join(money(e["amount"]) for e in bases) if len(bases) > 1 else \
                (f"{bases[0]['program'] or ''} {bases[0]['effective_date']}" if bases else t["base_sum"])
            raw = (base * percent / 100).quantize(Decimal("0.01"))
            values["raw"] = money(raw)
            values["cap"] = t["cap"].format(cap=money(amount)) if raw != Decimal(amount) else ""
        text = (rule.explain_zh if lang == "zh" else rule.explain_en).format_map(values)
    payable = ent.get("payable_amount")
    if ent.get("status") == "payable" and payable is not None and amount is not None and payable < amount:
        text += t["pro_rata"].format(payable=money(payable))
    return text


def _ledger_lines(con: duckdb.DuckDBPyConnection, t: dict[str, str], lang: str, eid: str) -> list[str]:
    lines = fetch_rows(con, """select l.*, ls.notice_ends, c.confirmed_on from ledger.lines as l
                          join ledger.lists as ls using (list_date)
                          left join ledger.confirmations as c using (list_date)
                          where l.entitlement_id = ? order by l.seq""", [eid])
    holds = fetch_rows(con, "select * from ledger.holds where entitlement_id = ? order by hold_seq", [eid])
    out = [t["ledger"] + ("" if lines else t["none"])]
    kinds = KIND_TERMS if lang == "zh" else KIND_TERMS_EN
    for line in lines:
        notice = t["confirmed"].format(on=line["confirmed_on"]) if line["confirmed_on"] else \
            t["in_notice"].format(ends=line["notice_ends"])
        reason = line["reason"] if lang == "zh" else ledger.reason_text(
            line["reason_code"], "en", target=f"{line['payable_amount']:.2f}",
            net=f"{line['payable_amount'] - line['amount']:.2f}", status=line["status"])
        out.append(t["line"].format(date=line["list_date"], kind=kinds[line["kind"]], amount=money(line["amount"]),
                                    line=line["line_id"], reason=reason, notice=notice,
                                    orig=t["orig"].format(orig=line["original_line_id"])
                                    if line["original_line_id"] else ""))
    for h in holds:
        out.append(t["hold_row"].format(at=h["recorded_at"], action=t[h["action"]], reason=h["reason"],
                                        actor=h["actor"]))
    if lines:
        last = holds[-1] if holds else None
        held = t["held"].format(reason=last["reason"], actor=last["actor"], at=last["recorded_at"]) \
            if last and last["action"] == "hold" else t["not_held"]
        out.append(t["net"].format(net=money(sum(line["amount"] for line in lines)), held=held))
    return out


def explain_entitlement(db: Path, entitlement_id: str, lang: str = "zh") -> str:
    t = TEXT[lang]
    with open_for_reading(db) as (con, copy):
        ent = fetch_one(con, "select e.*, b.as_of_date from marts.fct_entitlements as e "
                        "cross join marts.build_info as b where e.entitlement_id = ?", [entitlement_id]) \
            if has_table(con, "marts", "fct_entitlements") else None
        listed = fetch_one(con, "select e.*, l.firm_name, l.city, l.rule_version, l.amount_rule, l.status from "
                           "ledger.entitlements as e join ledger.lines as l using (entitlement_id) "
                           "where e.entitlement_id = ? order by l.seq desc limit 1", [entitlement_id])
        if ent is None and listed is None:
            raise NotFound(f"no entitlement {entitlement_id!r}: ids are listed in the nightly CSV "
                           "(应享奖励编号) and in `registry nightly --json`")
        base = ent or listed
        clause = fetch_one(con, "select * from marts.dim_policy_clauses where clause_id = ?", [base["clause_id"]]) or {}
        version = listed["rule_version"] if listed else None
        if version:
            clause = {**clause, **{k: v for k, v in (fetch_one(
                con, "select document_title, doc_number, article, quote, clause_reading from ledger.clause_versions "
                     "where rule_version = ?", [version]) or {}).items() if v is not None}}
        events = facts_of(con, entitlement_id, base["trigger_event_id"], ent is not None)
        rivals = fetch_rows(con, """select clause_id, entitled_amount, status from marts.fct_entitlements
                               where uscc = ? and stacking_group = ? and trigger_event_id = ?
                               order by entitled_amount desc nulls last, clause_id""",
                       [ent["uscc"], ent["stacking_group"], ent["trigger_event_id"]]) if ent else []
        ledger_part = _ledger_lines(con, t, lang, entitlement_id)
        city = city_label(base.get("city"), lang, con)
    out = [t["from_snapshot"].format(path=copy)] if copy else []
    out.append(t["head"].format(eid=entitlement_id, as_of=ent["as_of_date"]) if ent else
               t["gone"].format(eid=entitlement_id))
    out.append(t["firm"].format(name=base.get("firm_name") or "", uscc=base["uscc"],
                                city=city))
    out.append(t["policy"].format(title=clause.get("document_title") or base["clause_id"],
                                  number=f"（{clause['doc_number']}）" if clause.get("doc_number") else "",
                                  article=clause.get("article") or "", draft=t["draft"] if clause.get("is_draft")
                                  else ""))
    if clause.get("quote"):
        out.append(t["quote"].format(quote=clause["quote"]))
    if clause.get("clause_reading"):
        out.append(t["reading"].format(reading=" ".join(str(clause["clause_reading"]).split())))
    if version:
        out.append(t["version"].format(version=version))
    out += [t["facts"], *fact_lines(t, lang, events)]
    if ent:
        if ent.get("scale_status"):
            out.append(t["scale"].format(scale=terms.label(terms.SCALE, ent["scale_status"], lang)))
        out.append(t["arith"].format(text=_arithmetic(t, lang, ent, clause, events)))
        statuses = STATUS_TERMS if lang == "zh" else STATUS_TERMS_EN
        out.append(t["status"].format(status=statuses.get(ent["status"], ent["status"])))
        if len(rivals) > 1:
            out.append(t["stack_head"].format(group=ent["stacking_group"]))
            for r in rivals:
                mark = "*" if r["clause_id"] == ent["clause_id"] else "-"
                out.append(t["stack_row"].format(mark=mark, clause=r["clause_id"], amount=money(r["entitled_amount"]),
                                                 status=statuses.get(r["status"], r["status"])))
            if ent["status"] == "payable":
                out.append("  " + t["stack_win"])
    out += ledger_part
    return "\n".join(out)


