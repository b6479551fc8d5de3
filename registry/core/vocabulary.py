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

# The closed vocabularies of `program`: the texts the catalog matches on (design.md). An event type
# listed here takes one of its programs (a row with another is quarantined, naming these); one in
# FREE_TEXT_PROGRAMS takes any text the catalog only tells apart (a product's, a centre's name);
# any other type takes no program.
PROGRAMS: dict[str, dict[str, str]] = {
    "provincial_grant": {
        "rd_investment": "省级企业研发投入奖补",
        "first_set_equipment": "福建省首台（套）重大技术装备专项资金补助",
        "key_research": "省重点科研任务实际到账补助资金",
        "little_giant": "省级财政对国家专精特新“小巨人”企业的奖励",
        "digital_benchmark": "省级对新入选省级数智化标杆企业的奖励",
        "digital_benchmark_national": "省级对国家级智改数转标杆案例、国家高标准数字园区等项目的奖励",
        "srdi_provincial": "省级专精特新中小企业奖励",
        "single_champion": "制造业单项冠军企业奖励",
    },
    "national_grant": {
        "key_research": "国家重点科研任务实际到账补助资金",
        "little_giant": "中央财政支持专精特新“小巨人”企业资金",
        "digital_benchmark_national": "国家对标杆案例、数字园区项目的奖励",
        "first_set_equipment": "国家首台（套）支持资金",
    },
    "software_ranking": {
        "software_revenue_top100": "中国软件业务收入前百家（中国软件行业协会）",
        "software_competitiveness_top100": "软件和信息技术服务综合竞争力百强（中国电子信息行业联合会）",
        "internet_top100": "中国互联网企业100强（中国互联网协会）",
    },
    "incubator_assessment": {"excellent": "优秀", "good": "良好", "pass": "合格", "fail": "不合格"},
}
FREE_TEXT_PROGRAMS: frozenset[str] = frozenset({
    "product_security_evaluation",  # the evaluated product (名称及版本)
    "mfg_innovation_center",  # the centre's name: a lead unit may lead several
    "digital_benchmark",  # the project or case's name
})


def programs_of(event_type: str) -> frozenset[str] | None:
    """The programs `event_type` may carry, or None when its program is free text or it takes none."""
    found = PROGRAMS.get(event_type)
    return frozenset(found) if found is not None else None
