"""The amount rules: the one registry of how a clause's amount is computed (policies/README.md).

Adding an amount rule touches two places:

1. an entry in `RULES` below: its name, the keys a clause writes under `amount:` (with their kind,
   which fixes how they are parsed and the column they become in `policy.clauses`), its Chinese and
   English labels (the list's 金额性质, explain) and its texts for the catalog page and `registry
   explain`;
2. its SQL: one file `dbt_project/macros/amount_rules/<name>.sql` (or, for a rule paid to someone
   other than the trigger's firm, a model of its own: `sql_model`) with the macro
   `amount_rule__<name>(conditions)` (the amount of each triggered clause) and, when the amount rests
   on facts beside the trigger, `amount_facts__<name>(conditions)` (those facts, for the base and the
   audit trail). int_entitlement_amounts and int_entitlement_facts find the macros by name.

`tests/test_catalog.py` checks that every rule here has its macro file and every macro file a rule.
Caps are not amount rules: every clause may declare them (`caps:` under `amount:`, see registry.catalog.read).
"""

from __future__ import annotations

from dataclasses import dataclass

# kind -> the SQL type of its column(s) in policy.clauses
KIND_TYPES = {"yuan": "decimal(18, 2)", "percent": "decimal(18, 4)", "number": "decimal(18, 4)", "flag": "boolean"}


@dataclass(frozen=True)
class Param:
    """One key under `amount:`: `kind` is yuan, percent, number or flag (one column), related
    (event_type, program, window: three columns) or weights (revenue, profit, wages)."""

    key: str
    kind: str
    required: bool = True
    column: str | None = None  # the policy.clauses column; default: the key

    def columns(self) -> tuple[tuple[str, str], ...]:
        """(column, SQL type) this key is stored in."""
        if self.kind == "related":
            return (("related_event_type", "varchar"), ("related_program", "varchar"), ("related_window", "varchar"))
        if self.kind == "weights":
            return tuple((f"weight_{part}", KIND_TYPES["number"]) for part in WEIGHT_PARTS)
        return ((self.column or self.key, KIND_TYPES[self.kind]),)


WEIGHT_PARTS = ("revenue", "profit", "wages")
RELATED_WINDOWS = {"around_trigger": "触发日前一年至后三年内到账", "same_fiscal_year": "触发当年度"}


@dataclass(frozen=True)
class AmountRule:
    name: str
    label_zh: str  # 金额性质 on the list
    label_en: str
    params: tuple[Param, ...]
    describe_zh: str  # the catalog page; {key} is the key's value as text (万元 for yuan), {up_to} 不超过 or ''
    explain_zh: str  # `registry explain`'s arithmetic: {yuan} {base} {base_what} {percent} {raw} {cap} {amount} {label}
    explain_en: str
    sql_model: str | None = None  # a rule whose SQL is a model of its own (not macros/amount_rules/<name>.sql)

    def label(self, lang: str = "zh") -> str:
        return self.label_zh if lang == "zh" else self.label_en


_YUAN = Param("yuan", "yuan", column="amount_yuan")
_UP_TO = Param("up_to", "flag", required=False, column="percent_is_cap")
_MIN_BASE = Param("min_base_yuan", "yuan", required=False)
_GENERIC_ZH = "按“{label}”规则计算：基数 {base} 元，应享 {amount} 元"
_GENERIC_EN = "rule '{label}': base {base} yuan, entitled {amount} yuan"
_PERCENT_ZH = "{base} 元（{base_what}）× {percent}% = {raw} 元{cap}"
_PERCENT_EN = "{base} yuan ({base_what}) x {percent}% = {raw} yuan{cap}"

RULES: dict[str, AmountRule] = {r.name: r for r in (
    AmountRule("fixed", "定额", "fixed amount", (Param("yuan", "yuan", column="amount_yuan"),),
               "{yuan}", "定额 {yuan} 元", "fixed {yuan} yuan"),
    AmountRule("up_to", "上限（不超过）", "up to (planned at the cap)", (_YUAN,),
               "不超过{yuan}（按上限计）", "不超过 {yuan} 元，按上限计 {yuan} 元",
               "up to {yuan} yuan, planned at {yuan} yuan"),
    AmountRule("percent_of_trigger", "按事项金额比例", "percent of the triggering amount",
               (Param("percent", "percent"), _UP_TO, _MIN_BASE),
               "事项金额的{up_to}{percent}%", _PERCENT_ZH, _PERCENT_EN),
    AmountRule("percent_of_related", "按相关奖补/数额比例", "percent of a related grant or figure",
               (Param("percent", "percent"), _UP_TO, Param("related", "related"), _MIN_BASE),
               "{related}的{up_to}{percent}%", _PERCENT_ZH, _PERCENT_EN),
    AmountRule("revenue_growth", "定额（增长达标）", "fixed, when revenue grew enough",
               (Param("yuan", "yuan", column="amount_yuan"), Param("min_growth_percent", "percent")),
               "纳统后次年营收增长≥{min_growth_percent}%时{yuan}",
               "纳统后次年营业收入增长达 {min_growth_percent}%：定额 {yuan} 元",
               "revenue of the year after 升规 grew at least {min_growth_percent}%: fixed {yuan} yuan"),
    AmountRule("contribution", "按综合经济贡献计算", "by overall economic contribution",
               (Param("weights", "weights"), Param("min_contribution_yuan", "yuan"), Param("stock_unit_yuan", "yuan"),
                Param("stock_unit_award_yuan", "yuan"), Param("increase_unit_yuan", "yuan"),
                Param("increase_unit_award_yuan", "yuan")),
               "存量每{stock_unit_yuan}奖{stock_unit_award_yuan}，增量每{increase_unit_yuan}奖{increase_unit_award_yuan}",
               "综合经济贡献 {base} 元：存量每 {stock_unit_yuan} 元奖 {stock_unit_award_yuan} 元，增量每 "
               "{increase_unit_yuan} 元奖 {increase_unit_award_yuan} 元，应享 {amount} 元",
               "contribution {base} yuan: {stock_unit_award_yuan} per {stock_unit_yuan} of last year's level, "
               "{increase_unit_award_yuan} per {increase_unit_yuan} of the increase: {amount} yuan"),
    AmountRule("per_incubated_hitech", "按在孵企业数计", "per incubated firm", (_YUAN,),
               "每家在孵企业{yuan}", "在孵企业首次认定高企，每家 {yuan} 元",
               "a tenant's first 高企: {yuan} yuan per tenant", sql_model="int_incubator_hitech_awards"),
)}


def param_columns() -> tuple[tuple[str, str], ...]:
    """Every column the rules' keys are stored in (policy.clauses), each once, in a stable order."""
    seen: dict[str, str] = {}
    for rule in RULES.values():
        for param in rule.params:
            for column, sql_type in param.columns():
                seen.setdefault(column, sql_type)
    return tuple(seen.items())


def label(rule: str | None, lang: str = "zh") -> str:
    """The label of an amount rule (the rule's name when it is unknown, e.g. in an old ledger line)."""
    found = RULES.get(rule or "")
    return found.label(lang) if found else (rule or "")
