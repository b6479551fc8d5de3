"""The policy catalog: reviewed YAML files in `policies/`, one per document, loaded into DuckDB.

A policy officer reviews the YAML (quotes, amounts, readings); dbt reads the tables this
module writes (`policy.documents`, `policy.clauses`, `reference.cities`,
`reference.industry_scope_prefixes`). Loading refuses a catalog with an unknown event type,
a missing quote, an amount rule that does not parse, or two clauses that can fire on the
same event without a shared stacking group, naming the file, clause and field.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from registry.core import settings, vocabulary
from registry.core.errors import RegistryError

AUTOMATIC_GROUNDS = {
    "document_mianshen": "文件明确实行“免申即享”",
    "document_excludes": "文件明确排除在“免申即享”之外",
    "direct_fast": "所需事实均来自登记数据、金额无需评审（直达快享）",
    "needs_application": "需企业申报或评审",
}
ON_LIST_GROUNDS = {"document_mianshen", "direct_fast"}
# Each amount rule and the keys of `amount:` it needs (besides `rule`).
AMOUNT_RULES: dict[str, tuple[str, ...]] = {
    "fixed": ("yuan",),
    "up_to": ("yuan",),
    "percent_of_trigger": ("percent",),
    "percent_of_related": ("percent", "related"),
    "revenue_growth": ("yuan", "min_growth_percent"),
    "contribution": ("weights", "min_contribution_yuan", "stock_unit_yuan", "stock_unit_award_yuan",
                     "increase_unit_yuan", "increase_unit_award_yuan"),
    "per_incubated_hitech": ("yuan",),
}
RELATED_WINDOWS = {"around_trigger", "same_fiscal_year"}
ASSESSMENTS = ("fail", "pass", "good", "excellent")
UNAUTOMATED_REASONS = {
    "selected_by_review": "评审遴选产生，非登记事件触发",
    "paid_to_government": "奖励对象为县（市）区政府或园区",
    "paid_to_organiser": "奖励对象为活动组织单位",
    "needs_project_data": "需项目或经营数据，登记数据中没有",
    "needs_application": "需企业申报",
    "not_an_award": "非现金奖励（减征、便利措施等）",
}
SCALE_CONDITIONS = {"above", "below"}
STATUSES = {"draft", "in_force"}
SCOPES_FILE = "scopes.yml"
BUDGETS_FILE = "budgets.yml"
NOT_DOCUMENTS = {SCOPES_FILE, BUDGETS_FILE}


class CatalogError(RegistryError):
    """The catalog cannot be loaded; the message names file, clause and field."""


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
    rank_at_most: int | None
    rank_above: int | None
    min_amount_yuan: Decimal | None
    within_years_after_scale_up: int | None
    min_assessment: str | None
    amount_rule: str
    amount_yuan: Decimal | None
    percent: Decimal | None
    percent_is_cap: bool
    related_event_type: str | None
    related_program: str | None
    related_window: str | None
    min_base_yuan: Decimal | None
    cap_yuan: Decimal | None
    annual_cap_yuan: Decimal | None
    min_growth_percent: Decimal | None
    weight_revenue: Decimal | None
    weight_profit: Decimal | None
    weight_wages: Decimal | None
    min_contribution_yuan: Decimal | None
    stock_unit_yuan: Decimal | None
    stock_unit_award_yuan: Decimal | None
    increase_unit_yuan: Decimal | None
    increase_unit_award_yuan: Decimal | None
    stacking_group: str | None
    budget_group: str | None
    repeatable: bool
    automatic_ground: str
    automatic_quote: str | None
    source_file: str


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
    seed_file: str | None
    reading: str | None
    stacking_quote: str | None
    source_file: str


@dataclass(frozen=True)
class AnnualCap:
    cap_group: str
    yuan: Decimal
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


class _Where:
    """Builds error messages that name the place in the catalog."""

    def __init__(self, file: Path, clause: str | None = None) -> None:
        self.file, self.clause = file, clause

    def at(self, prefix: str) -> _Where:
        """The same place, for fields nested under `prefix`."""
        return _Prefixed(self.file, self.clause, prefix)

    def error(self, field: str, reason: str) -> CatalogError:
        place = f"{self.file.name}" + (f", clause {self.clause}" if self.clause else "")
        return CatalogError(f"{place}, field '{field}': {reason}")


class _Prefixed(_Where):
    def __init__(self, file: Path, clause: str | None, prefix: str) -> None:
        super().__init__(file, clause)
        self.prefix = prefix

    def error(self, field: str, reason: str) -> CatalogError:
        return super().error(f"{self.prefix}.{field}", reason)


def _require(mapping: dict[str, Any], key: str, where: _Where) -> Any:
    value = mapping.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise where.error(key, "is required and missing")
    return value


def _date(value: Any, field: str, where: _Where) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as err:
        raise where.error(field, f"'{value}' is not a YYYY-MM-DD date") from err


def _yuan(value: Any, field: str, where: _Where) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation as err:
        raise where.error(field, f"'{value}' is not an amount in yuan") from err
    if amount <= 0:
        raise where.error(field, f"'{value}' must be positive")
    return amount


def _number(value: Any, field: str, where: _Where) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation as err:
        raise where.error(field, f"'{value}' is not a number") from err
    if not number.is_finite() or number < 0:
        raise where.error(field, f"'{value}' must be a non-negative number")
    return number


AMOUNT_FIELDS = (
    "amount_rule", "amount_yuan", "percent", "percent_is_cap", "related_event_type", "related_program",
    "related_window", "min_base_yuan", "cap_yuan", "annual_cap_yuan", "min_growth_percent", "weight_revenue",
    "weight_profit", "weight_wages", "min_contribution_yuan", "stock_unit_yuan", "stock_unit_award_yuan",
    "increase_unit_yuan", "increase_unit_award_yuan",
)
YUAN_KEYS = {"yuan": "amount_yuan", "min_base_yuan": "min_base_yuan", "cap_yuan": "cap_yuan",
             "annual_cap_yuan": "annual_cap_yuan", "min_contribution_yuan": "min_contribution_yuan",
             "stock_unit_yuan": "stock_unit_yuan", "stock_unit_award_yuan": "stock_unit_award_yuan",
             "increase_unit_yuan": "increase_unit_yuan", "increase_unit_award_yuan": "increase_unit_award_yuan"}


def _parse_amount(spec: Any, where: _Where) -> dict[str, Any]:
    if not isinstance(spec, dict):
        raise where.error("amount", "must be a mapping like {rule: fixed, yuan: 100000}")
    spec = dict(spec)
    rule = spec.get("rule")
    if rule not in AMOUNT_RULES:
        raise where.error("amount.rule", f"'{rule}' does not parse; expected one of {sorted(AMOUNT_RULES)}")
    for key in AMOUNT_RULES[rule]:
        _require(spec, key, where.at("amount"))
    parsed: dict[str, Any] = dict.fromkeys(AMOUNT_FIELDS)
    parsed.update(amount_rule=rule, percent_is_cap=bool(spec.get("up_to", False)))
    for key, column in YUAN_KEYS.items():
        if spec.get(key) is not None:
            parsed[column] = _yuan(spec[key], f"amount.{key}", where)
    for key in ("percent", "min_growth_percent"):
        if spec.get(key) is not None:
            parsed[key] = _number(spec[key], f"amount.{key}", where)
    if parsed["percent"] is not None and parsed["percent"] > 100:
        raise where.error("amount.percent", f"{parsed['percent']} is more than 100")
    if rule == "percent_of_related":
        related = spec["related"]
        event_type = _require(related, "event_type", where.at("amount.related"))
        if event_type not in vocabulary.EVENT_TYPE_NAMES:
            raise where.error("amount.related.event_type", f"unknown event type '{event_type}'")
        window = related.get("window", "around_trigger")
        if window not in RELATED_WINDOWS:
            raise where.error("amount.related.window", f"'{window}' must be one of {sorted(RELATED_WINDOWS)}")
        parsed.update(related_event_type=event_type, related_program=related.get("program"), related_window=window)
    if rule == "contribution":
        weights = spec["weights"]
        for name in ("revenue", "profit", "wages"):
            parsed[f"weight_{name}"] = _number(_require(weights, name, where.at("amount.weights")),
                                               f"amount.weights.{name}", where)
    return parsed


def _parse_conditions(raw: Any, scopes: set[str], where: _Where) -> dict[str, Any]:
    conditions = raw or {}
    unknown = set(conditions) - {"first_time", "scale", "industry_scope", "min_tier", "rank_at_most", "rank_above",
                                 "min_amount_yuan", "within_years_after_scale_up", "min_assessment"}
    if unknown:
        raise where.error("conditions", f"unknown condition(s) {sorted(unknown)}; see policies/README.md")
    scale = conditions.get("scale")
    if scale is not None and scale not in SCALE_CONDITIONS:
        raise where.error("conditions.scale", f"'{scale}' must be one of {sorted(SCALE_CONDITIONS)}")
    scope = conditions.get("industry_scope")
    if scope is not None and scope not in scopes:
        raise where.error("conditions.industry_scope", f"'{scope}' is not declared in {SCOPES_FILE}")
    tier = conditions.get("min_tier")
    if tier is not None and tier not in vocabulary.TIER_TYPES:
        raise where.error("conditions.min_tier", f"'{tier}' is not a tier; tiers: {list(vocabulary.TIER_TYPES)}")
    assessment = conditions.get("min_assessment")
    if assessment is not None and assessment not in ASSESSMENTS:
        raise where.error("conditions.min_assessment", f"'{assessment}' must be one of {list(ASSESSMENTS)}")
    whole = {}
    for key in ("rank_at_most", "rank_above", "within_years_after_scale_up"):
        value = conditions.get(key)
        if value is not None and (not isinstance(value, int) or value < 0):
            raise where.error(f"conditions.{key}", f"'{value}' must be a whole number")
        whole[key] = value
    minimum = conditions.get("min_amount_yuan")
    return {
        "first_time": bool(conditions.get("first_time", False)), "scale_condition": scale, "industry_scope": scope,
        "min_tier": tier, "min_assessment": assessment, **whole,
        "min_amount_yuan": None if minimum is None else _yuan(minimum, "conditions.min_amount_yuan", where),
    }


def _parse_trigger(raw: Any, where: _Where) -> dict[str, Any]:
    trigger = raw if isinstance(raw, dict) else {}
    event_type = _require(trigger, "event_type", where.at("trigger"))
    if event_type not in vocabulary.EVENT_TYPE_NAMES:
        raise where.error("trigger.event_type",
                          f"unknown event type '{event_type}'; known: {sorted(vocabulary.EVENT_TYPE_NAMES)}")
    level = trigger.get("level")
    if level is not None and level not in vocabulary.LEVELS:
        raise where.error("trigger.level", f"unknown level '{level}'")
    actions = tuple(_require(trigger, "actions", where.at("trigger")))
    for action in actions:
        if action not in vocabulary.ACTIONS:
            raise where.error("trigger.actions", f"unknown action '{action}'")
    return {"trigger_event_type": event_type, "trigger_level": level, "trigger_actions": actions,
            "trigger_program": trigger.get("program")}


def _parse_clause(raw: dict[str, Any], document: Document, scopes: set[str], file: Path) -> Clause:
    where = _Where(file, raw.get("id", "<no id>"))
    ground = _require(raw, "automatic", where)
    if ground not in AUTOMATIC_GROUNDS:
        raise where.error("automatic", f"'{ground}' must be one of {sorted(AUTOMATIC_GROUNDS)}")
    effective_from = _date(raw.get("effective_from", document.effective_from), "effective_from", where)
    effective_to = _date(raw.get("effective_to", document.effective_to), "effective_to", where)
    if effective_to < effective_from:
        raise where.error("effective_to", "ends before effective_from")
    repeatable = _require(raw, "repeatable", where) if "repeatable" in raw else None
    if not isinstance(repeatable, bool):
        raise where.error("repeatable", "must be true (可重复享受) or false")
    return Clause(
        clause_id=_require(raw, "id", where), document_id=document.document_id,
        article=str(_require(raw, "article", where)), quote=str(_require(raw, "quote", where)).strip(),
        reading=raw.get("reading"), effective_from=effective_from, effective_to=effective_to,
        **_parse_trigger(_require(raw, "trigger", where), where),
        **_parse_conditions(raw.get("conditions"), scopes, where),
        **_parse_amount(_require(raw, "amount", where), where),
        stacking_group=raw.get("stacking_group"), budget_group=raw.get("budget_group"), repeatable=repeatable,
        automatic_ground=ground, automatic_quote=raw.get("automatic_quote"), source_file=file.name,
    )


def _parse_document(raw: dict[str, Any], file: Path, cities: set[str]) -> Document:
    where = _Where(file)
    doc = _require(raw, "document", where)
    status = _require(doc, "status", where)
    if status not in STATUSES:
        raise where.error("document.status", f"'{status}' must be one of {sorted(STATUSES)}")
    city = _require(doc, "city", where)
    if city not in cities:
        raise where.error("document.city", f"'{city}' is not declared in {SCOPES_FILE}")
    return Document(
        document_id=_require(doc, "id", where), title=_require(doc, "title", where),
        doc_number=doc.get("doc_number"), city=city, issuer=_require(doc, "issuer", where), status=status,
        effective_from=_date(_require(doc, "effective_from", where), "effective_from", where),
        effective_to=_date(_require(doc, "effective_to", where), "effective_to", where),
        seed_file=doc.get("seed_file"), reading=doc.get("reading"),
        stacking_quote=doc.get("stacking_quote"), source_file=file.name,
    )


def _parse_annual_caps(raw: list[dict[str, Any]], clause_ids: set[str], file: Path) -> list[AnnualCap]:
    caps = []
    for entry in raw:
        where = _Where(file, f"annual_caps/{entry.get('group', '<no group>')}")
        members = tuple(_require(entry, "clauses", where))
        for clause_id in members:
            if clause_id not in clause_ids:
                raise where.error("clauses", f"'{clause_id}' is not a clause of this file")
        caps.append(AnnualCap(_require(entry, "group", where), _yuan(_require(entry, "yuan", where), "yuan", where),
                              members, entry.get("quote"), file.name))
    return caps


def _parse_unautomated(raw: list[dict[str, Any]], document: Document, file: Path) -> list[UnautomatedSentence]:
    sentences = []
    for entry in raw:
        where = _Where(file, f"not_event_triggered/{entry.get('article', '<no article>')}")
        reason = _require(entry, "reason", where)
        if reason not in UNAUTOMATED_REASONS:
            raise where.error("reason", f"'{reason}' must be one of {sorted(UNAUTOMATED_REASONS)}")
        sentences.append(UnautomatedSentence(document.document_id, str(_require(entry, "article", where)),
                                             str(_require(entry, "quote", where)).strip(), reason, entry.get("note")))
    return sentences


def _read_budgets(folder: Path, clauses: list[Clause]) -> list[Budget]:
    file = folder / BUDGETS_FILE
    if not file.exists():
        return []
    groups = {c.budget_group for c in clauses if c.budget_group}
    budgets = []
    for entry in (yaml.safe_load(file.read_text(encoding="utf-8")) or {}).get("budgets") or []:
        where = _Where(file, f"budgets/{entry.get('group', '<no group>')}")
        group = _require(entry, "group", where)
        if group not in groups:
            raise where.error("group", f"no clause declares budget_group '{group}'")
        for year, yuan in (_require(entry, "years", where) or {}).items():
            budgets.append(Budget(group, int(year), _yuan(yuan, f"years.{year}", where), entry.get("note")))
    return budgets


def _excludes(a: Clause, b: Clause) -> bool:
    """Conditions that can never hold together on one event."""
    return bool(
        (a.scale_condition and b.scale_condition and a.scale_condition != b.scale_condition)
        or (a.rank_at_most is not None and b.rank_above is not None and a.rank_at_most <= b.rank_above)
        or (b.rank_at_most is not None and a.rank_above is not None and b.rank_at_most <= a.rank_above)
        or (a.trigger_program and b.trigger_program and a.trigger_program != b.trigger_program)
    )


def _can_fire_together(a: Clause, b: Clause, city_of: dict[str, str]) -> bool:
    return (
        a.trigger_event_type == b.trigger_event_type
        and (a.trigger_level is None or b.trigger_level is None or a.trigger_level == b.trigger_level)
        and bool(set(a.trigger_actions) & set(b.trigger_actions))
        and city_of[a.document_id] == city_of[b.document_id]
        and a.effective_from <= b.effective_to and b.effective_from <= a.effective_to
        and not _excludes(a, b)
    )


def overlapping_pairs(catalog: Catalog) -> list[tuple[Clause, Clause]]:
    city_of = {d.document_id: d.city for d in catalog.documents}
    clauses = sorted(catalog.clauses, key=lambda c: c.clause_id)
    return [(a, b) for i, a in enumerate(clauses) for b in clauses[i + 1:] if _can_fire_together(a, b, city_of)]


def read_catalog(folder: Path = settings.POLICY_DIR) -> Catalog:
    scopes_raw = yaml.safe_load((folder / SCOPES_FILE).read_text(encoding="utf-8"))
    cities, scopes = tuple(scopes_raw["cities"]), tuple(scopes_raw["industry_scopes"])
    city_names, scope_names = {c["city"] for c in cities}, {s["scope"] for s in scopes}
    documents: list[Document] = []
    clauses: list[Clause] = []
    caps: list[AnnualCap] = []
    unautomated: list[UnautomatedSentence] = []
    for file in sorted(folder.glob("*.yml")):
        if file.name in NOT_DOCUMENTS:
            continue
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
        document = _parse_document(raw, file, city_names)
        documents.append(document)
        own = [_parse_clause(clause_raw, document, scope_names, file) for clause_raw in raw.get("clauses") or []]
        clauses.extend(own)
        caps.extend(_parse_annual_caps(raw.get("annual_caps") or [], {c.clause_id for c in own}, file))
        unautomated.extend(_parse_unautomated(raw.get("not_event_triggered") or [], document, file))
    seen: dict[str, str] = {}
    for clause in clauses:
        if clause.clause_id in seen:
            raise CatalogError(f"{clause.source_file}, clause {clause.clause_id}, field 'id': "
                               f"also used in {seen[clause.clause_id]}")
        seen[clause.clause_id] = clause.source_file
    catalog = Catalog(tuple(documents), tuple(clauses), cities, scopes, tuple(caps),
                      tuple(_read_budgets(folder, clauses)), tuple(unautomated))
    for a, b in overlapping_pairs(catalog):
        if a.stacking_group is None or a.stacking_group != b.stacking_group:
            raise CatalogError(
                f"{a.source_file}, clause {a.clause_id}, field 'stacking_group': can fire on the same event as "
                f"{b.clause_id} ({b.source_file}) but they declare no shared stacking group "
                f"({a.stacking_group!r} vs {b.stacking_group!r}); declare how they stack"
            )
    return catalog

