"""Explanations for people: why a list line exists, and a firm's timeline."""

from __future__ import annotations

from pathlib import Path

from registry import db as registry_db

KIND_TERMS = {"award": "奖励", "reversal": "冲销"}
STATUS_TERMS = {
    "payable": "应兑付", "superseded": "被同组更高奖励取代（就高不重复）", "already_granted": "已享受过（不可重复）",
    "awaiting_grant": "等待省级奖补到账", "needs_application": "需申报", "revoked": "认定已被撤销",
}


class NotFound(LookupError):
    """Nothing in the registry matches what was asked for."""


def explain_entitlement(db: Path, entitlement_id: str) -> str:
    with registry_db.connect(db, read_only=True) as con:
        ent = con.execute(
            """select e.entitlement_id, e.uscc, e.firm_name, e.clause_id, e.trigger_event_id, e.trigger_date,
                      e.amount_rule, e.grant_base_amount, e.entitled_amount, e.is_cap, e.status, e.stacking_group,
                      e.scale_status, e.as_of_date, c.document_title, c.doc_number, c.article, c.quote,
                      c.clause_reading, c.percent, c.amount_yuan
               from marts.fct_entitlements as e
               join marts.dim_policy_clauses as c using (clause_id)
               where e.entitlement_id = ?""",
            [entitlement_id],
        ).fetchone()
        if ent is None:
            raise NotFound(f"no entitlement {entitlement_id!r}: ids are listed in the nightly CSV "
                           "(应享奖励编号) and in `registry nightly --json`")
        (eid, uscc, name, _clause_id, event_id, _trigger_date, rule, base, amount, is_cap, status, group,
         scale, as_of, title, doc_number, article, quote, reading, percent, yuan) = ent
        event = con.execute(
            """select event_type, action, level, effective_date, document_ref, source, file_sha256,
                      source_row_number from staging.stg_registry__events where event_id = ?""", [event_id],
        ).fetchone()
        rivals = con.execute(
            """select clause_id, entitled_amount, status from marts.fct_entitlements
               where uscc = ? and stacking_group = ? and trigger_event_id = ? and entitlement_id <> ?
               order by clause_id""", [uscc, group, event_id, eid],
        ).fetchall()
        history = con.execute(
            "select list_date, kind, amount, reason from ledger.lines where entitlement_id = ? order by list_date",
            [eid],
        ).fetchall()
    if rule == "percent_of_grant":
        arithmetic = f"{base} 元（省级奖补实际到账）× {percent}% = {amount} 元"
    else:
        arithmetic = f"{'不超过' if is_cap else '定额'} {yuan} 元" + ("（按上限计）" if is_cap else "")
    out = [
        f"应享奖励 {eid}（模型日期 {as_of}）",
        f"企业：{name}（{uscc}）",
        f"政策：{title}{'（' + doc_number + '）' if doc_number else ''} {article}",
        f"条款原文：{quote}",
    ]
    if reading:
        out.append(f"本目录的解读：{reading}")
    if event:
        batch = f"，文号/批次 {event[4]}" if event[4] else ""
        scale_term = "规上" if scale == "above" else "规下"
        out.append(f"触发事实：{event[0]} {event[1]} {event[2] or ''}，生效日 {event[3]}{batch}")
        out.append(f"认定日规模状态：{scale_term}")
        out.append(f"来源：{event[5]} 文件 sha256 {event[6][:12]}… 第 {event[7]} 行")
    out.append(f"金额计算：{arithmetic}")
    out.append(f"状态：{STATUS_TERMS.get(status, status)}")
    for clause, value, rival_status in rivals:
        out.append(f"  同组（{group}）：{clause} {value} 元 -> {STATUS_TERMS.get(rival_status, rival_status)}")
    out.append("台账记录：" + ("无" if not history else ""))
    for list_date, kind, value, reason in history:
        out.append(f"  {list_date} {KIND_TERMS[kind]} {value} 元：{reason}")
    return "\n".join(out)


def firm_timeline(db: Path, uscc: str) -> str:
    with registry_db.connect(db, read_only=True) as con:
        firm = con.execute("select firm_name, city_name, industry_code from marts.dim_firms where uscc = ?",
                           [uscc]).fetchone()
        if firm is None:
            raise NotFound(f"no firm {uscc!r} in the registry")
        events = con.execute(
            """select effective_date, event_type, action, level, program, amount, source, source_row_number
               from staging.stg_registry__events where uscc = ? order by effective_date, event_type""", [uscc],
        ).fetchall()
        status = con.execute("select as_of_date, tier_term, is_hitech, is_above_scale from marts.fct_firm_status "
                             "where uscc = ?", [uscc]).fetchone()
        lines = con.execute("select list_date, kind, amount, clause_id, entitlement_id from ledger.lines "
                            "where uscc = ? order by list_date, clause_id", [uscc]).fetchall()
    out = [f"{firm[0]}（{uscc}），{firm[1] or '未知城市'}，行业 {firm[2] or '未知'}", "事件："]
    out += [f"  {d} {t} {a} {lv or ''} {p or ''} {amt or ''}  [{src} 第{row}行]"
            for d, t, a, lv, p, amt, src, row in events]
    if status:
        out.append(f"截至 {status[0]}：梯度 {status[1] or '无'}；高企 {'是' if status[2] else '否'}；"
                   f"规上 {'是' if status[3] else '否'}")
    out.append("兑付台账：" + ("无" if not lines else ""))
    out += [f"  {d} {KIND_TERMS[k]} {amt} 元 {c} ({e})" for d, k, amt, c, e in lines]
    return "\n".join(out)
