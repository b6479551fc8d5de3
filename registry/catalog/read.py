"""The policy catalog: reviewed YAML files in `policies/`, one per document, read and checked here.

A policy officer reviews the YAML (quotes, amounts, readings); `registry.catalog.store` writes it to
DuckDB and dbt computes the entitlements from it. Reading refuses a catalog with an unknown event type,
program or condition, a missing quote, an amount rule that does not parse, a repeatable clause that
does not say what it repeats over, a cap that does not say what it caps, or two clauses that can fire
on the same event without a shared stacking group — naming the file, clause and field.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from registry.catalog import amount_rules
from registry.catalog.model import (
    ASSESSMENTS,
    AUTOMATIC_GROUNDS,
    CAP_PER,
    EFFECTIVE_FROM_BASES,
    ON_LIST_GROUNDS,
    REPEAT_PER,
    SCALE_CONDITIONS,
    STATUSES,
    UNAUTOMATED_REASONS,
    AnnualCap,
    Budget,
    Cap,
    Catalog,
    Clause,
    Document,
    MianshenSentence,
    UnautomatedSentence,
)
from registry.core import settings, vocabulary
from registry.core.errors import RegistryError

__all__ = ["AUTOMATIC_GROUNDS", "ON_LIST_GROUNDS", "UNAUTOMATED_REASONS", "Catalog", "CatalogError", "Clause",
           "Document", "overlapping_pairs", "read_catalog"]

SCOPES_FILE = "scopes.yml"
BUDGETS_FILE = "budgets.yml"
NOT_DOCUMENTS = {SCOPES_FILE, BUDGETS_FILE}
CONDITIONS = {"first_time", "scale", "industry_scope", "min_tier", "holds_any", "rank_at_most", "rank_above",
              "min_amount_yuan", "within_years_after_scale_up", "min_assessment"}


class CatalogError(RegistryError):
    """The catalog cannot be loaded; the message names file, clause and field."""

    hint = "fix the YAML in policies/ (its schema: policies/README.md) and run again"


class _Where:
    """Builds error messages that name the place in the catalog."""

    def __init__(self, file: Path, clause: str | None = None, prefix: str | None = None) -> None:
        self.file, self.clause, self.prefix = file, clause, prefix

    def at(self, prefix: str) -> _Where:
        """The same place, for fields nested under `prefix`."""
        return _Where(self.file, self.clause, f"{self.prefix}.{prefix}" if self.prefix else prefix)

    def error(self, field: str, reason: str) -> CatalogError:
        place = f"{self.file.name}" + (f", clause {self.clause}" if self.clause else "")
        name = f"{self.prefix}.{field}" if self.prefix else field
        return CatalogError(f"{place}, field '{name}': {reason}")


def _require(mapping: Any, key: str, where: _Where) -> Any:
    value = mapping.get(key) if isinstance(mapping, dict) else None
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
    if not amount.is_finite() or amount <= 0:
        raise where.error(field, f"'{value}' must be a positive amount")
    return amount


def _number(value: Any, field: str, where: _Where) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation as err:
        raise where.error(field, f"'{value}' is not a number") from err
    if not number.is_finite() or number < 0:
        raise where.error(field, f"'{value}' must be a non-negative number")
    return number


def _one_of(value: Any, allowed: dict[str, str] | set[str], field: str, where: _Where) -> str:
    if value not in allowed:
        raise where.error(field, f"'{value}' must be one of {sorted(allowed)}")
    return str(value)


def _program(event_type: str, program: Any, field: str, where: _Where) -> str | None:
    """A program the catalog matches on must be in the closed vocabulary of its event type."""
    if program is None:
        return None
    known = vocabulary.programs_of(event_type)
    if known is None:
        raise where.error(field, f"event type '{event_type}' has no program the catalog can match on")
    if program not in known:
        raise where.error(field, f"unknown program '{program}' for {event_type}; known: {sorted(known)}")
    return str(program)


def _parse_caps(raw: Any, where: _Where) -> tuple[Cap, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise where.error("caps", "must be a list like [{yuan: 3000000, per: firm_year, quote: ...}]")
    caps = []
    for index, entry in enumerate(raw):
        at = where.at(f"caps[{index}]")
        per = _one_of(_require(entry, "per", at), CAP_PER, "per", at)
        caps.append(Cap(_yuan(_require(entry, "yuan", at), "yuan", at), per, entry.get("quote")))
    return tuple(caps)


def _parse_amount(spec: Any, where: _Where) -> tuple[str, dict[str, Any], tuple[Cap, ...]]:
    if not isinstance(spec, dict):
        raise where.error("amount", "must be a mapping like {rule: fixed, yuan: 100000}")
    at = where.at("amount")
    rule_name = spec.get("rule")
    rule = amount_rules.RULES.get(rule_name or "")
    if rule is None:
        raise where.error("amount.rule", f"'{rule_name}' does not parse; expected one of {sorted(amount_rules.RULES)}")
    keys = {p.key for p in rule.params} | {"rule", "caps"}
    unknown = sorted(set(spec) - keys)
    if unknown:
        raise where.error("amount", f"unknown key(s) {unknown} for rule {rule_name}; it takes {sorted(keys)}")
    values: dict[str, Any] = {column: None for column, _ in amount_rules.param_columns()}
    for param in rule.params:
        value = spec.get(param.key)
        if value is None:
            if param.required:
                raise at.error(param.key, "is required and missing")
            if param.kind == "flag":
                values[param.columns()[0][0]] = False
            continue
        if param.kind == "yuan":
            values[param.columns()[0][0]] = _yuan(value, f"amount.{param.key}", where)
        elif param.kind in ("percent", "number"):
            number = _number(value, f"amount.{param.key}", where)
            if param.kind == "percent" and number > 100:
                raise where.error(f"amount.{param.key}", f"{number} is more than 100")
            values[param.columns()[0][0]] = number
        elif param.kind == "flag":
            values[param.columns()[0][0]] = bool(value)
        elif param.kind == "related":
            rel = where.at(f"amount.{param.key}")
            event_type = _require(value, "event_type", rel)
            if event_type not in vocabulary.EVENT_TYPE_NAMES:
                raise rel.error("event_type", f"unknown event type '{event_type}'")
            window = value.get("window", "around_trigger")
            _one_of(window, amount_rules.RELATED_WINDOWS, "window", rel)
            values.update(related_event_type=event_type, related_window=window,
                          related_program=_program(event_type, value.get("program"), "program", rel))
        elif param.kind == "weights":
            for part in amount_rules.WEIGHT_PARTS:
                values[f"weight_{part}"] = _number(_require(value, part, where.at(f"amount.{param.key}")),
                                                   f"amount.{param.key}.{part}", where)
    return rule.name, values, _parse_caps(spec.get("caps"), at)


def _parse_conditions(raw: Any, scopes: set[str], where: _Where) -> dict[str, Any]:
    conditions = raw or {}
    unknown = set(conditions) - CONDITIONS
    if unknown:
        raise where.error("conditions", f"unknown condition(s) {sorted(unknown)}; see policies/README.md")
    at = where.at("conditions")
    scale = conditions.get("scale")
    if scale is not None:
        _one_of(scale, SCALE_CONDITIONS, "scale", at)
    scope = conditions.get("industry_scope")
    if scope is not None and scope not in scopes:
        raise at.error("industry_scope", f"'{scope}' is not declared in {SCOPES_FILE}")
    tier = conditions.get("min_tier")
    if tier is not None and tier not in vocabulary.TIER_TYPES:
        raise at.error("min_tier", f"'{tier}' is not a tier; tiers: {list(vocabulary.TIER_TYPES)}")
    holds_any = tuple(conditions.get("holds_any") or ())
    for held in holds_any:
        if vocabulary.EVENT_KINDS.get(held) not in ("designation", "status"):
            raise at.error("holds_any", f"'{held}' is not a designation or status event type")
    assessment = conditions.get("min_assessment")
    if assessment is not None:
        _one_of(assessment, set(ASSESSMENTS), "min_assessment", at)
    whole = {}
    for key in ("rank_at_most", "rank_above", "within_years_after_scale_up"):
        value = conditions.get(key)
        if value is not None and (not isinstance(value, int) or value < 0):
            raise at.error(key, f"'{value}' must be a whole number")
        whole[key] = value
    minimum = conditions.get("min_amount_yuan")
    return {
        "first_time": bool(conditions.get("first_time", False)), "scale_condition": scale, "industry_scope": scope,
        "min_tier": tier, "holds_any": holds_any, "min_assessment": assessment, **whole,
        "min_amount_yuan": None if minimum is None else _yuan(minimum, "conditions.min_amount_yuan", where),
    }


def _parse_trigger(raw: Any, where: _Where) -> dict[str, Any]:
    trigger = raw if isinstance(raw, dict) else {}
    at = where.at("trigger")
    event_type = _require(trigger, "event_type", at)
    if event_type not in vocabulary.EVENT_TYPE_NAMES:
        raise at.error("event_type", f"unknown event type '{event_type}'; known: {sorted(vocabulary.EVENT_TYPE_NAMES)}")
    level = trigger.get("level")
    if level is not None:
        _one_of(level, vocabulary.LEVELS, "level", at)
    actions = tuple(_require(trigger, "actions", at))
    for action in actions:
        _one_of(action, vocabulary.ACTIONS, "actions", at)
    return {"trigger_event_type": event_type, "trigger_level": level, "trigger_actions": actions,
            "trigger_program": _program(event_type, trigger.get("program"), "program", at)}


def _ground(raw: dict[str, Any], document: Document, where: _Where) -> tuple[str, str | None]:
    """The clause's ground for the automatic list: the document's own 免申即享 sentence when it speaks
    of the clause's article, else the clause's declaration (direct_fast or needs_application)."""
    by_document = document.ground_of(str(raw.get("article", "")))
    declared = raw.get("automatic")
    if by_document is not None:
        ground, quote = by_document
        if declared is not None and declared != ground:
            raise where.error("automatic", f"'{declared}' contradicts the document's sentence 「{quote}」, "
                                           f"which makes this article {ground}")
        return ground, quote
    ground = _one_of(_require(raw, "automatic", where), AUTOMATIC_GROUNDS, "automatic", where)
    if ground in ("document_mianshen", "document_excludes") and not raw.get("automatic_quote"):
        raise where.error("automatic_quote", f"a {ground} ground quotes the document's sentence")
    return ground, raw.get("automatic_quote")


def _parse_clause(raw: dict[str, Any], document: Document, scopes: set[str], file: Path) -> Clause:
    where = _Where(file, raw.get("id", "<no id>"))
    if "repeatable" in raw:
        raise where.error("repeatable", "is replaced by repeat_per (what the clause pays at most once for): "
                                        f"one of {sorted(REPEAT_PER)}")
    repeat_per = _one_of(_require(raw, "repeat_per", where), REPEAT_PER, "repeat_per", where)
    effective_from = _date(raw.get("effective_from", document.effective_from), "effective_from", where)
    effective_to = _date(raw.get("effective_to", document.effective_to), "effective_to", where)
    if effective_to < effective_from:
        raise where.error("effective_to", "ends before effective_from")
    rule, amount, caps = _parse_amount(_require(raw, "amount", where), where)
    ground, quote = _ground(raw, document, where)
    return Clause(
        clause_id=_require(raw, "id", where), document_id=document.document_id,
        article=str(_require(raw, "article", where)), quote=str(_require(raw, "quote", where)).strip(),
        reading=raw.get("reading"), effective_from=effective_from, effective_to=effective_to,
        **_parse_trigger(_require(raw, "trigger", where), where),
        **_parse_conditions(raw.get("conditions"), scopes, where),
        amount_rule=rule, amount=amount, caps=caps,
        stacking_group=raw.get("stacking_group"), budget_group=raw.get("budget_group"), repeat_per=repeat_per,
        automatic_ground=ground, automatic_quote=quote, source_file=file.name,
    )


def _parse_mianshen(raw: Any, where: _Where) -> tuple[MianshenSentence, ...]:
    sentences = []
    for index, entry in enumerate(raw or []):
        at = where.at(f"document.mianshen[{index}]")
        covers = tuple(str(a) for a in _require(entry, "covers", at))
        sentences.append(MianshenSentence(str(_require(entry, "quote", at)).strip(), covers,
                                          tuple(str(a) for a in entry.get("except") or ())))
    return tuple(sentences)


def _parse_document(raw: dict[str, Any], file: Path, cities: set[str]) -> Document:
    where = _Where(file)
    doc = _require(raw, "document", where)
    at = where.at("document")
    status = _one_of(_require(doc, "status", at), STATUSES, "status", at)
    city = _require(doc, "city", at)
    if city not in cities:
        raise at.error("city", f"'{city}' is not declared in {SCOPES_FILE}")
    basis = _one_of(_require(doc, "effective_from_basis", at), EFFECTIVE_FROM_BASES, "effective_from_basis", at)
    effective_from = _date(_require(doc, "effective_from", at), "effective_from", at)
    effective_to = _date(_require(doc, "effective_to", at), "effective_to", at)
    if effective_to < effective_from:
        raise at.error("effective_to", "ends before effective_from")
    return Document(
        document_id=_require(doc, "id", at), title=_require(doc, "title", at),
        doc_number=doc.get("doc_number"), city=city, issuer=_require(doc, "issuer", at), status=status,
        effective_from=effective_from, effective_to=effective_to, effective_from_basis=basis,
        seed_file=doc.get("seed_file"), reading=doc.get("reading"), stacking_quote=doc.get("stacking_quote"),
        defers_quote=doc.get("defers_quote"), source_file=file.name,
        mianshen=_parse_mianshen(doc.get("mianshen"), where),
    )


def _parse_annual_caps(raw: list[dict[str, Any]], clause_ids: set[str], file: Path) -> list[AnnualCap]:
    caps = []
    for entry in raw:
        where = _Where(file, f"annual_caps/{entry.get('group', '<no group>')}")
        members = tuple(_require(entry, "clauses", where))
        for clause_id in members:
            if clause_id not in clause_ids:
                raise where.error("clauses", f"'{clause_id}' is not a clause of this file")
        per = _one_of(_require(entry, "per", where), {"firm_year"}, "per", where)
        caps.append(AnnualCap(_require(entry, "group", where), _yuan(_require(entry, "yuan", where), "yuan", where),
                              per, members, entry.get("quote"), file.name))
    return caps


def _parse_unautomated(raw: list[dict[str, Any]], document: Document, file: Path) -> list[UnautomatedSentence]:
    sentences = []
    for entry in raw:
        article = str(entry.get("article", "<no article>"))
        where = _Where(file, f"not_event_triggered/{article}")
        reason = _one_of(_require(entry, "reason", where), UNAUTOMATED_REASONS, "reason", where)
        by_document = document.ground_of(article)
        ground = by_document[0] if by_document else "none"
        missing = entry.get("missing_data")
        if ground == "document_mianshen" and reason != "mianshen_missing_data":
            raise where.error("reason", f"the document says 免申即享 for {article} (「{by_document[1]}」): the reason "
                                        "is mianshen_missing_data, with missing_data naming what the registry lacks")
        if reason == "mianshen_missing_data" and (ground != "document_mianshen" or not missing):
            raise where.error("missing_data", "mianshen_missing_data is for a sentence the document's 免申即享 "
                                              "sentence covers, and names the missing data")
        quote = str(_require(entry, "quote", where)).strip()
        sentences.append(UnautomatedSentence(document.document_id, article, quote, reason, ground, missing,
                                             entry.get("note")))
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
