"""Explanations for people: why a list line exists (`registry explain`), a firm's timeline
(`registry firm`). Chinese by default, English with `--lang en` (quoted policy text stays Chinese).

Both read the database read-only. While the nightly run holds the live file, they read the
auditors' snapshot instead and say so. An entitlement that the models no longer produce (its
record was retracted) is explained from the ledger, which keeps every line and its facts.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from registry import db as registry_db
from registry import ledger, snapshot
from registry.exports import CITY_LABELS

KIND_TERMS = {"award": "奖励", "reversal": "冲销"}
STATUS_TERMS = {
    "payable": "应兑付", "superseded": "被同组更高奖励取代（就高不重复）", "already_granted": "已享受过（不可重复）",
    "awaiting_grant": "等待上级奖补到账", "awaiting_data": "等待所需数据", "needs_application": "需申报",
    "revoked": "认定已被撤销", "cap_reached": "已达年度上限",
}
STATUS_TERMS_EN = {
    "payable": "payable", "superseded": "superseded by a higher award of its group (就高不重复)",
    "already_granted": "already granted (not repeatable)", "awaiting_grant": "waiting for the grant to be paid",
    "awaiting_data": "waiting for data", "needs_application": "needs an application",
    "revoked": "the designation was revoked", "cap_reached": "yearly cap reached",
}
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
        "fixed": "定额 {yuan} 元", "up_to": "不超过 {yuan} 元，按上限计 {yuan} 元",
        "percent": "{base} 元（{base_what}）× {percent}% = {raw} 元{cap}",
        "cap": "，封顶 {cap} 元", "other": "按“{rule}”规则计算：基数 {base}，应享 {amount} 元",
        "awaiting": "计算所需数据尚未到位，暂无金额", "pro_rata": "；年度预算不足，按比例可付 {payable} 元",
        "base_sum": "依据事实合计", "scale_above": "规上", "scale_below": "规下",
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
        "fixed": "fixed {yuan} yuan", "up_to": "up to {yuan} yuan, planned at {yuan} yuan",
        "percent": "{base} yuan ({base_what}) x {percent}% = {raw} yuan{cap}", "cap": ", capped at {cap} yuan",
        "other": "rule '{rule}': base {base}, entitled {amount} yuan",
        "awaiting": "the data the amount needs has not arrived: no amount yet",
        "pro_rata": "; yearly budget short: {payable} yuan payable pro rata", "base_sum": "sum of the base facts",
        "scale_above": "above designated size", "scale_below": "below designated size",
    },
}
KIND_TERMS_EN = {"award": "award", "reversal": "reversal"}


class NotFound(LookupError):
    """Nothing in the registry matches what was asked for."""


@contextmanager
def open_for_reading(db: Path) -> Iterator[tuple[duckdb.DuckDBPyConnection, Path | None]]:
    """The live database read-only, or the auditors' snapshot while a writer holds the live one."""
    try:
        with registry_db.connect(db, read_only=True) as con:
            yield con, None
            return
    except duckdb.IOException as err:
        copy = snapshot.snapshot_path(db)
        if "lock" not in str(err).lower() or not copy.exists():
            raise
    with duckdb.connect(str(copy), read_only=True) as con:
        yield con, copy


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _one(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> dict[str, Any] | None:
    rows = _rows(con, sql, params)
    return rows[0] if rows else None


def _money(value: Any) -> str:
    return "—" if value is None else f"{Decimal(value):,.2f}"


def _city(city: str | None, lang: str) -> str:
    return (CITY_LABELS.get(city or "", city) if lang == "zh" else city) or "?"


def _has(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return con.execute("select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
                       [schema, table]).fetchone()[0] > 0


def _events(con: duckdb.DuckDBPyConnection, eid: str, trigger: str, modelled: bool) -> list[dict[str, Any]]:
    """The facts behind an entitlement: those the models use now (audit.entitlement_facts) and
    those frozen with its lines (ledger.line_facts); `earlier` names the nights a fact was used
    on when the models no longer use it (a corrected or retracted record)."""
    frozen = _rows(con, "select f.event_id, f.role, string_agg(distinct cast(l.list_date as varchar), ', ') as dates "
                        "from ledger.line_facts as f join ledger.lines as l using (line_id) "
                        "where l.entitlement_id = ? group by all", [eid])
    now = {(r["event_id"], r["role"]) for r in _rows(
        con, "select event_id, role from audit.entitlement_facts where entitlement_id = ?", [eid])} \
        if modelled and _has(con, "audit", "entitlement_facts") else set()
    pairs = {(r["event_id"], r["role"]): None if not modelled or (r["event_id"], r["role"]) in now else r["dates"]
             for r in frozen}
    pairs.update({pair: None for pair in now})
    pairs = pairs or {(trigger, "trigger"): None}
    order = list(ROLE_TERMS)
    out = []
    for (event_id, role), earlier in pairs.items():
        event = _one(con, """select e.*, t.term as type_term, a.term as action_term, lv.term as level_term,
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


def _fact_lines(t: dict[str, str], lang: str, events: list[dict[str, Any]], roles: bool = True) -> list[str]:
    zh = lang == "zh"
    out = []
    for e in events:
        role = ROLE_TERMS.get(e["role"], (e["role"], e["role"]))[0 if zh else 1]
        what = " ".join(str(v) for v in ((e["type_term"] if zh else None) or e["event_type"],
                                         (e["action_term"] if zh else None) or e["action"],
                                         (e["level_term"] if zh else None) or e["level"]) if v)
        parts = [what, t["effective"].format(e["effective_date"]), t["published"].format(e["published_date"] or "—"),
                 e["document_ref"], e["program"] and f"program={e['program']}",
                 e["amount"] is not None and t["yuan"].format(_money(e["amount"]))]
        earlier = t["earlier"].format(e["earlier"]) if e.get("earlier") else ""
        out.append("  " + (f"[{role}] " if roles else "") + t["sep"].join(str(p) for p in parts if p) + earlier)
        out.append(t["source"].format(source=e["source"], file=e["file_name"] or "?", sha=e["file_sha256"][:12],
                                      row=e["row_number"]))
    return out


def _arithmetic(t: dict[str, str], ent: dict[str, Any], clause: dict[str, Any],
                events: list[dict[str, Any]]) -> str:
    rule, amount = ent.get("amount_rule"), ent.get("entitled_amount")
    if amount is None:
        text = t["awaiting"]
    elif rule == "fixed":
        text = t["fixed"].format(yuan=_money(clause.get("amount_yuan") or amount))
    elif rule == "up_to":
        text = t["up_to"].format(yuan=_money(clause.get("amount_yuan") or amount))
    elif rule in ("percent_of_related", "percent_of_trigger") and ent.get("base_amount") is not None:
        base, percent = Decimal(ent["base_amount"]), Decimal(clause.get("percent") or 0)
        bases = [e for e in events if e["role"] == "base" and e["amount"] is not None and not e["earlier"]]
        what = " + ".join(_money(e["amount"]) for e in bases) if len(bases) > 1 else \
            (f"{bases[0]['program'] or ''} {bases[0]['effective_date']}" if bases else t["base_sum"])
        raw = (base * percent / 100).quantize(Decimal("0.01"))
        cap = t["cap"].format(cap=_money(amount)) if raw != Decimal(amount) else ""
        text = t["percent"].format(base=_money(base), base_what=what, percent=f"{percent.normalize():f}",
                                   raw=_money(raw), cap=cap)
    else:
        text = t["other"].format(rule=rule, base=_money(ent.get("base_amount")), amount=_money(amount))
    payable = ent.get("payable_amount")
    if ent.get("status") == "payable" and payable is not None and amount is not None and payable < amount:
        text += t["pro_rata"].format(payable=_money(payable))
    return text


def _ledger_lines(con: duckdb.DuckDBPyConnection, t: dict[str, str], lang: str, eid: str) -> list[str]:
    lines = _rows(con, """select l.*, ls.notice_ends, c.confirmed_on from ledger.lines as l
                          join ledger.lists as ls using (list_date)
                          left join ledger.confirmations as c using (list_date)
                          where l.entitlement_id = ? order by l.seq""", [eid])
    holds = _rows(con, "select * from ledger.holds where entitlement_id = ? order by hold_seq", [eid])
    out = [t["ledger"] + ("" if lines else t["none"])]
    kinds = KIND_TERMS if lang == "zh" else KIND_TERMS_EN
    for line in lines:
        notice = t["confirmed"].format(on=line["confirmed_on"]) if line["confirmed_on"] else \
            t["in_notice"].format(ends=line["notice_ends"])
        reason = line["reason"] if lang == "zh" else ledger.reason_text(
            line["reason_code"], "en", target=f"{line['payable_amount']:.2f}",
            net=f"{line['payable_amount'] - line['amount']:.2f}", status=line["status"])
        out.append(t["line"].format(date=line["list_date"], kind=kinds[line["kind"]], amount=_money(line["amount"]),
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
        out.append(t["net"].format(net=_money(sum(line["amount"] for line in lines)), held=held))
    return out


def explain_entitlement(db: Path, entitlement_id: str, lang: str = "zh") -> str:
    t = TEXT[lang]
    with open_for_reading(db) as (con, copy):
        ent = _one(con, "select e.*, b.as_of_date from marts.fct_entitlements as e cross join marts.build_info as b "
                   "where e.entitlement_id = ?", [entitlement_id]) \
            if _has(con, "marts", "fct_entitlements") else None
        listed = _one(con, "select e.*, l.firm_name, l.city, l.rule_version, l.amount_rule, l.status from "
                           "ledger.entitlements as e join ledger.lines as l using (entitlement_id) "
                           "where e.entitlement_id = ? order by l.seq desc limit 1", [entitlement_id])
        if ent is None and listed is None:
            raise NotFound(f"no entitlement {entitlement_id!r}: ids are listed in the nightly CSV "
                           "(应享奖励编号) and in `registry nightly --json`")
        base = ent or listed
        clause = _one(con, "select * from marts.dim_policy_clauses where clause_id = ?", [base["clause_id"]]) or {}
        version = listed["rule_version"] if listed else None
        if version:
            clause = {**clause, **{k: v for k, v in (_one(
                con, "select document_title, doc_number, article, quote, clause_reading from ledger.clause_versions "
                     "where rule_version = ?", [version]) or {}).items() if v is not None}}
        events = _events(con, entitlement_id, base["trigger_event_id"], ent is not None)
        rivals = _rows(con, """select clause_id, entitled_amount, status from marts.fct_entitlements
                               where uscc = ? and stacking_group = ? and trigger_event_id = ?
                               order by entitled_amount desc nulls last, clause_id""",
                       [ent["uscc"], ent["stacking_group"], ent["trigger_event_id"]]) if ent else []
        ledger_part = _ledger_lines(con, t, lang, entitlement_id)
    out = [t["from_snapshot"].format(path=copy)] if copy else []
    out.append(t["head"].format(eid=entitlement_id, as_of=ent["as_of_date"]) if ent else
               t["gone"].format(eid=entitlement_id))
    out.append(t["firm"].format(name=base.get("firm_name") or "", uscc=base["uscc"],
                                city=_city(base.get("city"), lang)))
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
    out += [t["facts"], *_fact_lines(t, lang, events)]
    if ent:
        if ent.get("scale_status"):
            out.append(t["scale"].format(scale=t.get(f"scale_{ent['scale_status']}", ent["scale_status"])))
        out.append(t["arith"].format(text=_arithmetic(t, ent, clause, events)))
        statuses = STATUS_TERMS if lang == "zh" else STATUS_TERMS_EN
        out.append(t["status"].format(status=statuses.get(ent["status"], ent["status"])))
        if len(rivals) > 1:
            out.append(t["stack_head"].format(group=ent["stacking_group"]))
            for r in rivals:
                mark = "*" if r["clause_id"] == ent["clause_id"] else "-"
                out.append(t["stack_row"].format(mark=mark, clause=r["clause_id"], amount=_money(r["entitled_amount"]),
                                                 status=statuses.get(r["status"], r["status"])))
            if ent["status"] == "payable":
                out.append("  " + t["stack_win"])
    out += ledger_part
    return "\n".join(out)


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
    """The firm's tier after each change: the highest tier among the designations valid that day."""
    rows = con.execute(
        """with spells as (select * from intermediate.int_designation_spells where uscc = ? and tier_rank is not null),
                points as (select valid_from as day from spells union select valid_to from spells
                           where valid_to is not null)
           select p.day, max(s.tier_rank) as rank
           from points as p
           left join spells as s on s.valid_from <= p.day and (s.valid_to is null or s.valid_to > p.day)
           group by p.day order by p.day""", [uscc]).fetchall()
    names = dict(con.execute("select tier_rank, case when ? = 'zh' then term else event_type end "
                             "from reference.event_types where tier_rank is not null", [lang]).fetchall())
    out, last = [], object()
    for day, rank in rows:
        if rank != last:
            out.append((day, names.get(rank, "—") if rank is not None else "—"))
            last = rank
    return out


def firm_timeline(db: Path, uscc: str, lang: str = "zh") -> str:
    t, et = FIRM_TEXT[lang], TEXT[lang]
    with open_for_reading(db) as (con, copy):
        firm = _one(con, "select * from marts.dim_firms where uscc = ?", [uscc]) \
            if _has(con, "marts", "dim_firms") else None
        if firm is None:
            raise NotFound(f"no firm {uscc!r} in the registry")
        events = _rows(con, """select e.event_key as event_id, '' as role, e.*, t.term as type_term,
                                      a.term as action_term, lv.term as level_term, ld.file_name
                               from raw.events as e left join reference.event_types as t using (event_type)
                               left join reference.actions as a using (action)
                               left join reference.levels as lv using (level)
                               left join raw.loads as ld using (load_id)
                               where e.uscc = ? order by e.effective_date, e.event_type, e.row_number""", [uscc])
        tiers = _tiers(con, uscc, lang) if _has(con, "intermediate", "int_designation_spells") else []
        status = _one(con, "select s.*, b.as_of_date from marts.fct_firm_status as s cross join marts.build_info as b "
                      "where s.uscc = ?", [uscc]) \
            if _has(con, "marts", "fct_firm_status") else None
        ents = _rows(con, "select e.*, b.as_of_date from marts.fct_entitlements as e cross join marts.build_info as b "
                     "where e.uscc = ? order by e.trigger_date, e.clause_id",
                     [uscc]) if _has(con, "marts", "fct_entitlements") else []
        lines = _rows(con, "select * from ledger.lines where uscc = ? order by seq", [uscc])
        held = {e for (e,) in con.execute(
            "select entitlement_id from ledger.holds group by entitlement_id "
            "having arg_max(action, hold_seq) = 'hold'").fetchall()}
    out = [et["from_snapshot"].format(path=copy)] if copy else []
    out.append(t["head"].format(name=firm["firm_name"], uscc=uscc, city=firm.get("city_name") or firm.get("city")
                                or "?", industry=firm.get("industry_code") or "?"))
    out += [t["events"], *_fact_lines(et, lang, events, roles=False)]
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
                                amount=_money(e["entitled_amount"]), payable=_money(e.get("payable_amount")),
                                status=statuses.get(e["status"], e["status"])) for e in ents]
    kinds = KIND_TERMS if lang == "zh" else KIND_TERMS_EN
    out.append(t["ledger"] + ("" if lines else et["none"]))
    for line in lines:
        reason = line["reason"] if lang == "zh" else line["reason_code"]
        out.append(t["line"].format(date=line["list_date"], kind=kinds[line["kind"]], amount=_money(line["amount"]),
                                    clause=line["clause_id"], eid=line["entitlement_id"], reason=reason))
    if lines:
        awards = sum(line["amount"] for line in lines if line["kind"] == "award")
        reversals = sum(line["amount"] for line in lines if line["kind"] == "reversal")
        held_amount = sum(line["amount"] for line in lines if line["entitlement_id"] in held)
        out.append(t["totals"].format(awards=_money(awards), reversals=_money(reversals),
                                      net=_money(awards + reversals), held=_money(held_amount)))
    return "\n".join(out)
