"""The catalog for people: `registry policies` (a terminal listing) and the generated catalog
page (Markdown, in Chinese) with the overlap report, for policy officers who do not read SQL."""

from __future__ import annotations

from decimal import Decimal

from registry.catalog.read import AUTOMATIC_GROUNDS, UNAUTOMATED_REASONS, Catalog, Clause, overlapping_pairs
from registry.core import vocabulary

LEVEL_TERMS = {"national": "国家级", "provincial": "省级", "municipal": "市级"}
SCALE_TERMS = {"above": "规上", "below": "规下"}
EVENT_TERMS = {t.name: t.term for t in vocabulary.EVENT_TYPES}


def _yuan(value: Decimal | None) -> str:
    if value is None:
        return ""
    wan = value / 10000
    return f"{wan:g}万元" if value >= 10000 else f"{value:g}元"


def amount_text(clause: Clause) -> str:
    rule = clause.amount_rule
    prefix = "不超过" if clause.percent_is_cap else ""
    cap = f"，单笔最高{_yuan(clause.cap_yuan)}" if clause.cap_yuan else ""
    if rule == "fixed":
        text = _yuan(clause.amount_yuan)
    elif rule == "up_to":
        text = f"不超过{_yuan(clause.amount_yuan)}（按上限计）"
    elif rule == "percent_of_trigger":
        text = f"事项金额的{prefix}{clause.percent:g}%"
    elif rule == "percent_of_related":
        program = f"[{clause.related_program}]" if clause.related_program else ""
        text = f"{EVENT_TERMS[clause.related_event_type or '']}{program}的{prefix}{clause.percent:g}%"
    elif rule == "revenue_growth":
        text = f"纳统后次年营收增长≥{clause.min_growth_percent:g}%时{_yuan(clause.amount_yuan)}"
    elif rule == "contribution":
        text = (f"存量每{_yuan(clause.stock_unit_yuan)}奖{_yuan(clause.stock_unit_award_yuan)}，"
                f"增量每{_yuan(clause.increase_unit_yuan)}奖{_yuan(clause.increase_unit_award_yuan)}")
    else:
        text = f"每家在孵企业{_yuan(clause.amount_yuan)}"
    annual = f"，每年每家最高{_yuan(clause.annual_cap_yuan)}" if clause.annual_cap_yuan else ""
    return text + cap + annual


def trigger_text(clause: Clause) -> str:
    level = LEVEL_TERMS.get(clause.trigger_level or "", "")
    actions = "/".join(vocabulary.ACTIONS[a] for a in clause.trigger_actions)
    program = f"（{clause.trigger_program}）" if clause.trigger_program else ""
    return f"{level}{EVENT_TERMS[clause.trigger_event_type]}{program} {actions}"


def conditions_text(clause: Clause) -> str:
    parts = []
    if clause.first_time:
        parts.append("首次")
    if clause.scale_condition:
        parts.append(SCALE_TERMS[clause.scale_condition])
    if clause.industry_scope:
        parts.append(f"行业范围 {clause.industry_scope}")
    if clause.min_tier:
        parts.append(f"持有{EVENT_TERMS[clause.min_tier]}及以上")
    if clause.rank_at_most is not None:
        parts.append(f"前{clause.rank_at_most}名")
    if clause.rank_above is not None:
        parts.append(f"第{clause.rank_above + 1}名及以后")
    if clause.min_amount_yuan is not None:
        parts.append(f"金额≥{_yuan(clause.min_amount_yuan)}")
    if clause.within_years_after_scale_up is not None:
        parts.append(f"升规当年及之后{clause.within_years_after_scale_up}年内")
    if clause.min_assessment:
        parts.append(f"考核{clause.min_assessment}及以上")
    return "、".join(parts) or "无"


def policies_text(catalog: Catalog) -> str:
    out = [catalog.summary()]
    for doc in catalog.documents:
        status = "征求意见稿（草案）" if doc.status == "draft" else "正式"
        out.append(f"\n{doc.title} {doc.doc_number or ''} [{doc.city}, {status}, "
                   f"{doc.effective_from} ~ {doc.effective_to}]")
        for clause in (c for c in catalog.clauses if c.document_id == doc.document_id):
            out.append(f"  {clause.clause_id}  {clause.article}  {amount_text(clause)}  "
                       f"-> {AUTOMATIC_GROUNDS[clause.automatic_ground]}")
    return "\n".join(out)


def _cell(text: object) -> str:
    return str(text or "").replace("|", "｜").replace("\n", " ").strip()


def overlap_lines(catalog: Catalog) -> list[str]:
    lines = ["| 条款甲 | 条款乙 | 叠加组 | 处理 |", "|---|---|---|---|"]
    for a, b in overlapping_pairs(catalog):
        lines.append(f"| {a.clause_id} | {b.clause_id} | {a.stacking_group} | "
                     "就高不重复：同一事件只兑付金额高者；金额相同取正式文件，再按条款编号 |")
    return lines


def catalog_page(catalog: Catalog) -> str:
    """The Markdown page a policy officer reviews (generated: `registry policies --page FILE`)."""
    out = ["# 政策条款目录（免申即享）", "",
           "本页由 `registry policies --page docs/policy-catalog.md` 从 `policies/*.yml` 生成，请勿手改。", "",
           catalog.summary(), ""]
    for doc in catalog.documents:
        status = "征求意见稿（草案，照算并在清单标注）" if doc.status == "draft" else "正式施行"
        out += [f"## {doc.title}", "",
                f"- 文号：{doc.doc_number or '无'}；发文：{doc.issuer}；城市：{doc.city}；状态：{status}",
                f"- 有效期：{doc.effective_from} 至 {doc.effective_to}"]
        if doc.reading:
            out.append(f"- 解读：{_cell(doc.reading)}")
        out += ["", "| 条款 | 原文 | 触发 | 条件 | 金额 | 叠加组 | 可重复 | 清单依据 | 解读 |",
                "|---|---|---|---|---|---|---|---|---|"]
        for c in (c for c in catalog.clauses if c.document_id == doc.document_id):
            out.append(f"| {c.article}<br>`{c.clause_id}` | {_cell(c.quote)} | {trigger_text(c)} | "
                       f"{conditions_text(c)} | {amount_text(c)} | {c.stacking_group or ''} | "
                       f"{'是' if c.repeatable else '否'} | {AUTOMATIC_GROUNDS[c.automatic_ground]} | "
                       f"{_cell(c.reading)} |")
        sentences = [u for u in catalog.unautomated if u.document_id == doc.document_id]
        if sentences:
            out += ["", "非事件触发的奖励条款（不进入自动清单）：", "",
                    "| 条款 | 原文 | 原因 | 说明 |", "|---|---|---|---|"]
            out += [f"| {u.article} | {_cell(u.quote)} | {UNAUTOMATED_REASONS[u.reason]} | {_cell(u.note)} |"
                    for u in sentences]
        out.append("")
    out += ["## 同一事件可触发的条款对（叠加报告）", "", *overlap_lines(catalog), ""]
    return "\n".join(out)
