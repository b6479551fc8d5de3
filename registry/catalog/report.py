"""The catalog for people: `registry policies` (a terminal listing) and the generated catalog
page (Markdown, in Chinese) with the overlap report, for policy officers who do not read SQL."""

from __future__ import annotations

from decimal import Decimal

from registry.catalog import amount_rules
from registry.catalog.model import (
    AUTOMATIC_GROUNDS,
    CAP_PER,
    EFFECTIVE_FROM_BASES,
    REPEAT_PER,
    SENTENCE_GROUNDS,
    UNAUTOMATED_REASONS,
    Catalog,
    Clause,
)
from registry.catalog.read import overlapping_pairs
from registry.core import terms, vocabulary

LEVEL_TERMS = terms.labels(terms.LEVEL)
SCALE_TERMS = terms.labels(terms.SCALE)
EVENT_TERMS = {t.name: t.term for t in vocabulary.EVENT_TYPES}


def _yuan(value: Decimal | None) -> str:
    if value is None:
        return ""
    wan = value / 10000
    return f"{wan:g}万元" if value >= 10000 else f"{value:g}元"


def _text_of(value: object) -> str:
    if isinstance(value, Decimal):
        return f"{value:g}"
    return "" if value is None else str(value)


def amount_text(clause: Clause) -> str:
    """The amount as the catalog page shows it: the rule's own text (registry.catalog.amount_rules), then its caps."""
    rule = amount_rules.RULES[clause.amount_rule]
    values: dict[str, str] = {}
    for param in rule.params:
        for column, _ in param.columns():
            value = clause.param(column)
            values[param.key if len(param.columns()) == 1 else column] = (
                _yuan(value) if param.kind == "yuan" else _text_of(value))
    values["up_to"] = "不超过" if clause.param("percent_is_cap") else ""
    if "related" in {p.key for p in rule.params}:
        program = clause.param("related_program")
        values["related"] = EVENT_TERMS[clause.param("related_event_type")] + (f"[{program}]" if program else "")
    text = rule.describe_zh.format(**values)
    caps = "".join(f"，{CAP_PER[cap.per]}最高{_yuan(cap.yuan)}" for cap in clause.caps)
    return text + caps


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
    if clause.holds_any:
        parts.append("持有" + "或".join(EVENT_TERMS[t] for t in clause.holds_any))
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
                       f"[{REPEAT_PER[clause.repeat_per]}]  -> {AUTOMATIC_GROUNDS[clause.automatic_ground]}")
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
                f"- 有效期：{doc.effective_from} 至 {doc.effective_to}"
                f"（施行日依据：{EFFECTIVE_FROM_BASES[doc.effective_from_basis]}）"]
        for sentence in doc.mianshen:
            excepted = f"，除{'、'.join(sentence.excepts)}" if sentence.excepts else ""
            out.append(f"- 免申即享：「{sentence.quote}」（适用于{'、'.join(sentence.covers)}{excepted}）")
        if doc.defers_quote:
            out.append(f"- 现行政策：「{doc.defers_quote}」")
        if doc.reading:
            out.append(f"- 解读：{_cell(doc.reading)}")
        caps = [cap for cap in catalog.annual_caps if cap.source_file == doc.source_file]
        for cap in caps:
            out.append(f"- 共用上限 `{cap.cap_group}`：{CAP_PER[cap.per]}合计最高{_yuan(cap.yuan)}"
                       f"（{'、'.join(cap.clause_ids)}）「{_cell(cap.quote)}」")
        out += ["", "| 条款 | 原文 | 触发 | 条件 | 金额与上限 | 叠加组 | 每…一次 | 清单依据 | 解读 |",
                "|---|---|---|---|---|---|---|---|---|"]
        for c in (c for c in catalog.clauses if c.document_id == doc.document_id):
            out.append(f"| {c.article}<br>`{c.clause_id}` | {_cell(c.quote)} | {trigger_text(c)} | "
                       f"{conditions_text(c)} | {amount_text(c)} | {c.stacking_group or ''} | "
                       f"`{c.repeat_per}` {REPEAT_PER[c.repeat_per]} | {AUTOMATIC_GROUNDS[c.automatic_ground]} | "
                       f"{_cell(c.reading)} |")
        sentences = [u for u in catalog.unautomated if u.document_id == doc.document_id]
        if sentences:
            out += ["", "非事件触发的奖励条款（不进入自动清单）：", "",
                    "| 条款 | 原文 | 免申即享依据 | 原因 | 缺少的数据 | 说明 |", "|---|---|---|---|---|---|"]
            out += [f"| {u.article} | {_cell(u.quote)} | {SENTENCE_GROUNDS[u.ground]} | "
                    f"{UNAUTOMATED_REASONS[u.reason]} | {_cell(u.missing_data)} | {_cell(u.note)} |"
                    for u in sentences]
        out.append("")
    out += ["## 同一事件可触发的条款对（叠加报告）", "", *overlap_lines(catalog), ""]
    return "\n".join(out)
