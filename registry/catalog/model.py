"""The policy catalog as Python values: documents, clauses, caps, budgets, unautomated sentences.

The vocabulary of the catalog's declarations lives here, one place for each: the grounds for the
automatic list, what a clause repeats over, what a cap covers, why a sentence is not on the list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

AUTOMATIC_GROUNDS = {
    "document_mianshen": "文件明确实行“免申即享”",
    "document_excludes": "文件明确排除在“免申即享”之外",
    "direct_fast": "所需事实均来自登记数据、金额无需评审（直达快享）",
    "needs_application": "需企业申报或评审",
}
ON_LIST_GROUNDS = {"document_mianshen", "direct_fast"}

# What a clause pays at most once for (design.md: every repeatable clause declares it).
REPEAT_PER = {
    "firm": "每家企业一次",
    "level": "每家企业每一级别一次（逐级可分别享受）",
    "designation": "每次新认定（或重新认定）一次；再次发布同一认定不另奖",
    "program": "每项（产品、榜单、中心）一次，不论再次发布",
    "project": "每个项目一次（项目以 document_ref 识别）",
    "project_year": "每个项目每个年度一次（项目以 document_ref 识别）",
    "grant": "每笔事实（到账奖补、贷款、投资）一次",
    "fiscal_year": "每家企业每个年度一次",
    "tenant": "每家在孵企业一次（不论几家孵化器）",
}
ONCE_PER_FIRM = {"firm", "level"}

# What a cap covers (design.md: every cap declares it; the subject of the sentence decides).
CAP_PER = {
    "award": "每笔奖励",
    "firm_year": "每家企业每年",
}

UNAUTOMATED_REASONS = {
    "mianshen_missing_data": "文件实行“免申即享”，但登记数据缺少所需数据",
    "selected_by_review": "评审遴选产生，非登记事件触发",
    "paid_to_government": "奖励对象为县（市）区政府或园区",
    "paid_to_organiser": "奖励对象为活动组织单位",
    "needs_project_data": "需项目或经营数据，登记数据中没有",
    "needs_application": "需企业申报",
    "not_an_award": "非现金奖励（减征、便利措施等）",
}
SENTENCE_GROUNDS = {
    "document_mianshen": "文件明确实行“免申即享”",
    "document_excludes": "文件明确排除在“免申即享”之外",
    "none": "文件未就“免申即享”作规定",
}
EFFECTIVE_FROM_BASES = {
    "stated": "文件写明的施行日",
    "stated_month": "文件只写到月份（“X月XX日”），取该月中任何读法下都已施行的第一天",
    "cited_document_lower_bound": "文件写“自发布之日起”而未写日期，取其所引最晚文件的印发日为下限",
    "issue_date": "文件写“自颁布/印发之日起”，取印发日",
}
ASSESSMENTS = ("fail", "pass", "good", "excellent")
SCALE_CONDITIONS = {"above", "below"}
STATUSES = {"draft", "in_force"}


@dataclass(frozen=True)
class Cap:
    yuan: Decimal
    per: str  # a key of CAP_PER
    quote: str | None = None


@dataclass(frozen=True)
class Clause:
    clause_id: str
    document_id: str
    article: str
    quote: str
    reading: str | None
    effective_from: dt.date
    effective_to: dt.date
    trigger_event_type: str
    trigger_level: str | None
    trigger_actions: tuple[str, ...]
    trigger_program: str | None
    first_time: bool
    scale_condition: str | None
    industry_scope: str | None
    min_tier: str | None
    holds_any: tuple[str, ...]
    rank_at_most: int | None
    rank_above: int | None
    min_amount_yuan: Decimal | None
    within_years_after_scale_up: int | None
    min_assessment: str | None
    amount_rule: str
    amount: Mapping[str, Any]  # column of registry.catalog.amount_rules -> value
    caps: tuple[Cap, ...]
    stacking_group: str | None
    budget_group: str | None
    repeat_per: str
    automatic_ground: str
    automatic_quote: str | None
    source_file: str

    @property
    def repeatable(self) -> bool:
        """可重复享受: pays a firm more than once (anything but once per firm or per level)."""
        return self.repeat_per not in ONCE_PER_FIRM

    def cap_yuan(self, per: str) -> Decimal | None:
        found = [cap.yuan for cap in self.caps if cap.per == per]
        return min(found) if found else None

    def param(self, column: str) -> Any:
        return self.amount.get(column)


@dataclass(frozen=True)
class MianshenSentence:
    """A document's own 免申即享 sentence and the articles it covers (and excepts)."""

    quote: str
    covers: tuple[str, ...]
    excepts: tuple[str, ...] = ()

    @staticmethod
    def _matches(article: str, prefixes: tuple[str, ...]) -> bool:
        return any(article == p or article.startswith(p + " ") or article.startswith(p + ".") for p in prefixes)

    def ground_of(self, article: str) -> str | None:
        """document_excludes / document_mianshen for an article this sentence speaks of, else None."""
        if self._matches(article, self.excepts):
            return "document_excludes"
        if self._matches(article, self.covers):
            return "document_mianshen"
        return None


@dataclass(frozen=True)
class Document:
    document_id: str
    title: str
    doc_number: str | None
    city: str
    issuer: str
    status: str
    effective_from: dt.date
    effective_to: dt.date
    effective_from_basis: str
    seed_file: str | None
    reading: str | None
    stacking_quote: str | None
    defers_quote: str | None
    source_file: str
    mianshen: tuple[MianshenSentence, ...] = field(default=(), compare=False)

    def ground_of(self, article: str) -> tuple[str, str] | None:
        """(ground, quote) when one of the document's 免申即享 sentences speaks of `article`."""
        for sentence in self.mianshen:
            ground = sentence.ground_of(article)
            if ground:
                return ground, sentence.quote
        return None


@dataclass(frozen=True)
class AnnualCap:
    cap_group: str
    yuan: Decimal
    per: str
    clause_ids: tuple[str, ...]
    quote: str | None
    source_file: str


@dataclass(frozen=True)
class Budget:
    budget_group: str
    budget_year: int
    yuan: Decimal
    note: str | None


@dataclass(frozen=True)
class UnautomatedSentence:
    document_id: str
    article: str
    quote: str
    reason: str
    ground: str  # a key of SENTENCE_GROUNDS, from the document's 免申即享 sentences
    missing_data: str | None
    note: str | None


@dataclass(frozen=True)
class Catalog:
    documents: tuple[Document, ...]
    clauses: tuple[Clause, ...]
    cities: tuple[dict[str, str], ...]
    scopes: tuple[dict[str, Any], ...]
    annual_caps: tuple[AnnualCap, ...] = ()
    budgets: tuple[Budget, ...] = ()
    unautomated: tuple[UnautomatedSentence, ...] = ()

    def summary(self) -> str:
        on_list = sum(1 for c in self.clauses if c.automatic_ground in ON_LIST_GROUNDS)
        return (f"policy catalog: {len(self.documents)} documents, {len(self.clauses)} clauses "
                f"({on_list} on the automatic list)")
