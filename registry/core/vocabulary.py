"""The closed event vocabulary: the one place where event types, actions and levels are named.

The registry writes these tables into DuckDB (schema `reference`) on every connection set-up,
so dbt tests and the policy catalog check against the same lists.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EventType:
    name: str
    term: str  # the Chinese name people use
    kind: str  # designation | status | grant | report | measure | relation
    validity_years: int | None  # years a grant/renewal stays valid; None = until revoked/expired
    tier_rank: int | None = None  # 梯度 rank for tier designations (higher is better)


EVENT_TYPES: tuple[EventType, ...] = (
    EventType("innovative_sme", "创新型中小企业", "designation", 3, 1),
    EventType("srdi_provincial", "省级专精特新中小企业", "designation", 3, 2),
    EventType("little_giant", "国家级专精特新“小巨人”企业", "designation", 3, 3),
    EventType("single_champion", "制造业单项冠军企业", "designation", 3, 4),
    EventType("hitech", "国家高新技术企业", "designation", 3),
    EventType("scale_up", "规模以上企业（升规纳统）", "status", None),
    EventType("tech_center", "企业技术中心", "designation", None),
    EventType("design_center", "工业设计中心", "designation", None),
    EventType("mfg_innovation_center", "制造业创新中心", "designation", None),
    EventType("tech_innovation_demo", "国家技术创新示范企业", "designation", None),
    EventType("5g_factory", "5G工厂", "designation", None),
    EventType("provincial_grant", "省级奖补（实际到账）", "grant", None),
    EventType("national_grant", "国家级奖补（实际到账）", "grant", None),
    EventType("annual_report", "年报/统计数据", "report", None),
    EventType("tech_renovation_investment", "技改设备（含软件）年度实际投资额（不含增值税）", "measure", None),
    EventType("digital_project_investment", "数智化项目软硬件实际投资额（不含增值税）", "measure", None),
    EventType("loan", "金融机构实际投放贷款", "measure", None),
    EventType("rd_expenditure", "年度研发投入额", "measure", None),
    EventType("software_ranking", "软件和互联网国家级榜单入选（program=榜单，rank=名次）", "designation", None),
    EventType("product_security_evaluation", "通过国家安全可靠测评的产品（program=产品）", "designation", None),
    EventType("digital_benchmark", "数智化标杆企业/智改数转标杆案例", "designation", None),
    EventType("incubator", "科技企业孵化器（national=工信部认定部级）", "designation", None),
    EventType("incubator_assessment", "孵化器年度考核结果（program=excellent/good/pass/fail）", "report", None),
    EventType("incubated_firm", "孵化器的在孵或当年毕业企业（related_uscc=该企业）", "relation", None),
    EventType("rd_headquarters", "新引进研发总部", "designation", None),
)

ACTIONS: dict[str, str] = {
    "granted": "新认定",
    "renewed": "重新认定",
    "revoked": "撤销",
    "expired": "到期",
    "retracted": "撤回（来源更正）",
}

LEVELS: dict[str, str] = {
    "national": "国家级",
    "provincial": "省级",
    "municipal": "市级",
}

EVENT_TYPE_NAMES: frozenset[str] = frozenset(t.name for t in EVENT_TYPES)
EVENT_KINDS: dict[str, str] = {t.name: t.kind for t in EVENT_TYPES}
TIER_TYPES: tuple[str, ...] = tuple(t.name for t in EVENT_TYPES if t.tier_rank is not None)

# The list's own codes, in the words the finance office reads (the XLSX, the nightly page, explain).
LINE_KINDS: dict[str, str] = {"award": "奖励", "reversal": "冲销"}

# Entitlement status (marts.fct_entitlements.status) -> what it means.
STATUS_TERMS: dict[str, str] = {
    "payable": "应兑付", "superseded": "被同组更高奖励取代（就高不重复）", "already_granted": "已享受过（不可重复）",
    "awaiting_grant": "等待上级奖补到账", "awaiting_data": "等待所需数据", "needs_application": "需申报",
    "revoked": "认定已被撤销", "cap_reached": "已达年度上限",
}

# A line's reason_code (registry.ledger.append.REASONS) -> its short name; status codes read as the status.
REASON_TERMS: dict[str, str] = {
    "new": "新增", "relisted": "重新列支", "raised": "金额调增", "lowered": "金额调减",
    "retracted": "来源撤回记录", "gone": "不再满足条件", "not_payable": "不再列支",
    **{code: term for code, term in STATUS_TERMS.items() if code != "payable"},
}
