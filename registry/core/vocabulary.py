"""The closed event vocabulary: the one place where event types, actions, levels and programs are named.

The registry writes these tables into DuckDB (schema `reference`) when a database is set up and
before every night, so dbt tests and the policy catalog check against the same lists.

Programs (`PROGRAMS`): texts the policy catalog matches on are a closed vocabulary too. A grant's
`program` (what the payment rewards), a ranking's list and an incubator's assessment grade name one
of the values below, or the row is quarantined with the known values in its reason: an unfamiliar
label from an agency must never drop a firm's award without a word. A `program` the catalog only
tells apart (the product of a per-product award: `product_security_evaluation`) stays free text
(`FREE_TEXT_PROGRAM_TYPES`). Every other event type takes no program.

`PLAUSIBLE_YUAN` is the one place where the largest believable amount of each event kind is
declared: a value above it is quarantined as implausible (a unit applied twice, a typo), never paid.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


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


@dataclass(frozen=True)
class Program:
    name: str
    term: str  # the Chinese name the publications use


GRANT_PROGRAMS: tuple[Program, ...] = (
    Program("little_giant", "专精特新“小巨人”企业奖励"),
    Program("srdi_provincial", "专精特新中小企业奖励"),
    Program("single_champion", "制造业单项冠军企业奖励"),
    Program("first_set_equipment", "首台（套）重大技术装备奖补"),
    Program("rd_investment", "企业研发投入奖补"),
    Program("key_research", "重点科研任务补助"),
    Program("digital_benchmark", "省级数智化标杆奖励"),
    Program("digital_benchmark_national", "国家级数智化标杆奖励"),
)
RANKING_PROGRAMS: tuple[Program, ...] = (
    Program("software_revenue_top100", "中国软件业务收入前百家企业"),
    Program("software_competitiveness_top100", "中国软件和信息技术服务综合竞争力百强企业"),
    Program("internet_top100", "中国互联网综合实力前百家企业"),
)
ASSESSMENT_GRADES: tuple[Program, ...] = (
    Program("excellent", "优秀"),
    Program("good", "良好"),
    Program("pass", "合格"),
    Program("fail", "不合格"),
)

PROGRAMS: dict[str, tuple[Program, ...]] = {  # event type -> the programs it may carry (closed)
    "provincial_grant": GRANT_PROGRAMS,
    "national_grant": GRANT_PROGRAMS,
    "software_ranking": RANKING_PROGRAMS,
    "incubator_assessment": ASSESSMENT_GRADES,
}
PROGRAM_NAMES: dict[str, frozenset[str]] = {t: frozenset(p.name for p in ps) for t, ps in PROGRAMS.items()}
GRANT_PROGRAM_NAMES: frozenset[str] = frozenset(p.name for p in GRANT_PROGRAMS)
# Types whose program is free text the catalog only tells apart, never matches (design.md).
FREE_TEXT_PROGRAM_TYPES: frozenset[str] = frozenset({
    "product_security_evaluation",  # the evaluated product (名称及版本): 每项产品
    "mfg_innovation_center",  # the centre's name: a lead unit may lead several centres
    "digital_benchmark",  # the case or project's name
})
# Of those, the types whose rows must name their program: a security evaluation is always of a named
# product (名称及版本), and 每项产品 pays each one. A centre or a benchmark project may come without its
# name; it is then one unnamed centre / project of the firm (paid at most once, never one per row).
PROGRAM_REQUIRED_TYPES: frozenset[str] = frozenset({"product_security_evaluation"})


def program_types() -> frozenset[str]:
    """Event types that carry a program (closed or free text); every other type takes none."""
    return frozenset(PROGRAMS) | FREE_TEXT_PROGRAM_TYPES


def programs_of(event_type: str) -> frozenset[str] | None:
    """The closed programs of `event_type` (the catalog may match on these), or None when it has none."""
    return PROGRAM_NAMES.get(event_type)


def known_programs(event_type: str) -> str:
    """The closed programs of `event_type` as a reason names them: `little_giant（专精特新“小巨人”企业奖励）, ...`."""
    return ", ".join(f"{p.name}（{p.term}）" for p in PROGRAMS.get(event_type, ()))


# The largest amount (yuan) believable for one event of each kind; above it a row is quarantined as
# implausible. Grants: no 奖补 of a single programme reaches 1亿. Measures (investment, loans, R&D
# spending of one firm in one year) stay below 1万亿; annual reports (revenue, profit, wages) below
# 10万亿 (China's largest firm reports about 3.5万亿 of revenue).
PLAUSIBLE_YUAN: dict[str, Decimal] = {
    "grant": Decimal("100000000"),  # 1亿
    "measure": Decimal("1000000000000"),  # 1万亿
    "report": Decimal("10000000000000"),  # 10万亿
}
