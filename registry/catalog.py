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

from registry import db as registry_db
from registry import settings, vocabulary

AUTOMATIC_GROUNDS = {
    "document_mianshen": "文件明确实行“免申即享”",
    "document_excludes": "文件明确排除在“免申即享”之外",
    "direct_fast": "所需事实均来自登记数据、金额无需评审（直达快享）",
    "needs_application": "需企业申报或评审",
}
ON_LIST_GROUNDS = {"document_mianshen", "direct_fast"}
AMOUNT_RULES = {"fixed", "up_to", "percent_of_grant"}
SCALE_CONDITIONS = {"above", "below"}
STATUSES = {"draft", "in_force"}
SCOPES_FILE = "scopes.yml"


class CatalogError(ValueError):
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
    first_time: bool
    scale_condition: str | None
    industry_scope: str | None
    amount_rule: str
    amount_yuan: Decimal | None
    percent: Decimal | None
    grant_event_type: str | None
    grant_program: str | None
    cap_yuan: Decimal | None
    stacking_group: str | None
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
class Catalog:
    documents: tuple[Document, ...]
    clauses: tuple[Clause, ...]
    cities: tuple[dict[str, str], ...]
    scopes: tuple[dict[str, Any], ...]

    def summary(self) -> str:
        on_list = sum(1 for c in self.clauses if c.automatic_ground in ON_LIST_GROUNDS)
        return (f"policy catalog: {len(self.documents)} documents, {len(self.clauses)} clauses "
                f"({on_list} on the automatic list)")


class _Where:
    """Builds error messages that name the place in the catalog."""

    def __init__(self, file: Path, clause: str | None = None) -> None:
        self.file, self.clause = file, clause

    def error(self, field: str, reason: str) -> CatalogError:
        place = f"{self.file.name}" + (f", clause {self.clause}" if self.clause else "")
        return CatalogError(f"{place}, field '{field}': {reason}")


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


def _parse_amount(spec: Any, where: _Where) -> dict[str, Any]:
    if not isinstance(spec, dict):
        raise where.error("amount", "must be a mapping like {rule: fixed, yuan: 100000}")
    rule = spec.get("rule")
    if rule not in AMOUNT_RULES:
        raise where.error("amount.rule", f"'{rule}' does not parse; expected one of {sorted(AMOUNT_RULES)}")
    parsed: dict[str, Any] = {"amount_rule": rule, "amount_yuan": None, "percent": None,
                              "grant_event_type": None, "grant_program": None, "cap_yuan": None}
    if rule in {"fixed", "up_to"}:
        parsed["amount_yuan"] = _yuan(_require(spec, "yuan", where), "amount.yuan", where)
    else:
        percent = _yuan(_require(spec, "percent", where), "amount.percent", where)
        if percent > 100:
            raise where.error("amount.percent", f"{percent} is more than 100")
        grant = _require(spec, "grant", where)
        if vocabulary.EVENT_KINDS.get(grant) != "grant":
            raise where.error("amount.grant", f"'{grant}' is not a grant event type")
        parsed.update(percent=percent, grant_event_type=grant,
                      grant_program=_require(spec, "program", where))
    if spec.get("cap_yuan") is not None:
        parsed["cap_yuan"] = _yuan(spec["cap_yuan"], "amount.cap_yuan", where)
    return parsed


def _parse_clause(raw: dict[str, Any], document: Document, scopes: set[str], file: Path) -> Clause:
    where = _Where(file, raw.get("id", "<no id>"))
    clause_id = _require(raw, "id", where)
    trigger = _require(raw, "trigger", where)
    event_type = _require(trigger, "event_type", where)
    if event_type not in vocabulary.EVENT_TYPE_NAMES:
        raise where.error("trigger.event_type",
                          f"unknown event type '{event_type}'; known: {sorted(vocabulary.EVENT_TYPE_NAMES)}")
    level = trigger.get("level")
    if level is not None and level not in vocabulary.LEVELS:
        raise where.error("trigger.level", f"unknown level '{level}'")
    actions = tuple(_require(trigger, "actions", where))
    for action in actions:
        if action not in vocabulary.ACTIONS:
            raise where.error("trigger.actions", f"unknown action '{action}'")
    conditions = raw.get("conditions") or {}
    scale = conditions.get("scale")
    if scale is not None and scale not in SCALE_CONDITIONS:
        raise where.error("conditions.scale", f"'{scale}' must be one of {sorted(SCALE_CONDITIONS)}")
    scope = conditions.get("industry_scope")
    if scope is not None and scope not in scopes:
        raise where.error("conditions.industry_scope", f"'{scope}' is not declared in {SCOPES_FILE}")
    ground = _require(raw, "automatic", where)
    if ground not in AUTOMATIC_GROUNDS:
        raise where.error("automatic", f"'{ground}' must be one of {sorted(AUTOMATIC_GROUNDS)}")
    effective_from = _date(raw.get("effective_from", document.effective_from), "effective_from", where)
    effective_to = _date(raw.get("effective_to", document.effective_to), "effective_to", where)
    if effective_to < effective_from:
        raise where.error("effective_to", "ends before effective_from")
    return Clause(
        clause_id=clause_id, document_id=document.document_id,
        article=_require(raw, "article", where), quote=_require(raw, "quote", where).strip(),
        reading=raw.get("reading"), effective_from=effective_from, effective_to=effective_to,
        trigger_event_type=event_type, trigger_level=level, trigger_actions=actions,
        first_time=bool(conditions.get("first_time", False)), scale_condition=scale, industry_scope=scope,
        **_parse_amount(_require(raw, "amount", where), where),
        stacking_group=raw.get("stacking_group"), repeatable=bool(_require(raw, "repeatable", where)
                                                                   in (True, "true")),
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


def _can_fire_together(a: Clause, b: Clause, city_of: dict[str, str]) -> bool:
    return (
        a.trigger_event_type == b.trigger_event_type
        and a.trigger_level == b.trigger_level
        and bool(set(a.trigger_actions) & set(b.trigger_actions))
        and city_of[a.document_id] == city_of[b.document_id]
        and a.effective_from <= b.effective_to and b.effective_from <= a.effective_to
        and not (a.scale_condition and b.scale_condition and a.scale_condition != b.scale_condition)
    )


def overlapping_pairs(catalog: Catalog) -> list[tuple[Clause, Clause]]:
    city_of = {d.document_id: d.city for d in catalog.documents}
    clauses = sorted(catalog.clauses, key=lambda c: c.clause_id)
    return [(a, b) for i, a in enumerate(clauses) for b in clauses[i + 1:] if _can_fire_together(a, b, city_of)]


def read_catalog(folder: Path = settings.POLICY_DIR) -> Catalog:
    scopes_file = folder / SCOPES_FILE
    scopes_raw = yaml.safe_load(scopes_file.read_text(encoding="utf-8"))
    cities = tuple(scopes_raw["cities"])
    scopes = tuple(scopes_raw["industry_scopes"])
    city_names, scope_names = {c["city"] for c in cities}, {s["scope"] for s in scopes}
    documents: list[Document] = []
    clauses: list[Clause] = []
    for file in sorted(folder.glob("*.yml")):
        if file.name == SCOPES_FILE:
            continue
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
        document = _parse_document(raw, file, city_names)
        documents.append(document)
        for clause_raw in raw.get("clauses") or []:
            clauses.append(_parse_clause(clause_raw, document, scope_names, file))
    seen: dict[str, str] = {}
    for clause in clauses:
        if clause.clause_id in seen:
            raise CatalogError(f"{clause.source_file}, clause {clause.clause_id}, field 'id': "
                               f"also used in {seen[clause.clause_id]}")
        seen[clause.clause_id] = clause.source_file
    catalog = Catalog(tuple(documents), tuple(clauses), cities, scopes)
    for a, b in overlapping_pairs(catalog):
        if a.stacking_group is None or a.stacking_group != b.stacking_group:
            raise CatalogError(
                f"{a.source_file}, clause {a.clause_id}, field 'stacking_group': can fire on the same event as "
                f"{b.clause_id} ({b.source_file}) but they declare no shared stacking group "
                f"({a.stacking_group!r} vs {b.stacking_group!r}); declare how they stack"
            )
    return catalog


def write_catalog(con, catalog: Catalog) -> None:
    """Replace the catalog tables with `catalog` (they are derived data: the YAML is the truth)."""
    con.execute("""
        create or replace table policy.documents (
            document_id varchar primary key, title varchar not null, doc_number varchar, city varchar not null,
            issuer varchar not null, status varchar not null, effective_from date not null,
            effective_to date not null, seed_file varchar, reading varchar, stacking_quote varchar,
            source_file varchar not null);
        create or replace table policy.clauses (
            clause_id varchar primary key, document_id varchar not null, article varchar not null,
            quote varchar not null, reading varchar, effective_from date not null, effective_to date not null,
            trigger_event_type varchar not null, trigger_level varchar, trigger_actions varchar[] not null,
            first_time boolean not null, scale_condition varchar, industry_scope varchar,
            amount_rule varchar not null, amount_yuan decimal(18, 2), percent decimal(9, 4),
            grant_event_type varchar, grant_program varchar, cap_yuan decimal(18, 2), stacking_group varchar,
            repeatable boolean not null, automatic_ground varchar not null, automatic_quote varchar,
            source_file varchar not null);
        create or replace table policy.clause_actions (
            clause_id varchar not null, action varchar not null, primary key (clause_id, action));
        create or replace table reference.cities (
            city varchar primary key, name varchar not null, division_prefix varchar not null);
        create or replace table reference.industry_scope_prefixes (
            scope varchar not null, term varchar not null, prefix varchar not null, reading varchar,
            primary key (scope, prefix));
        create or replace table reference.automatic_grounds (
            ground varchar primary key, description varchar not null, on_automatic_list boolean not null);
    """)
    con.executemany("insert into policy.documents values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [list(vars(d).values()) for d in catalog.documents])
    con.executemany(
        "insert into policy.clauses values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [[*(list(v) if isinstance(v, tuple) else v for v in vars(c).values())] for c in catalog.clauses],
    )
    con.executemany("insert into policy.clause_actions values (?, ?)",
                    [[c.clause_id, a] for c in catalog.clauses for a in c.trigger_actions])
    con.executemany("insert into reference.cities values (?, ?, ?)",
                    [[c["city"], c["name"], str(c["division_prefix"])] for c in catalog.cities])
    con.executemany("insert into reference.industry_scope_prefixes values (?, ?, ?, ?)",
                    [[s["scope"], s["term"], str(p), s.get("reading")] for s in catalog.scopes
                     for p in s["prefixes"]])
    con.executemany("insert into reference.automatic_grounds values (?, ?, ?)",
                    [[g, d, g in ON_LIST_GROUNDS] for g, d in AUTOMATIC_GROUNDS.items()])


def load_catalog(db: Path, folder: Path = settings.POLICY_DIR) -> Catalog:
    """Read, validate and write the catalog into `db`; returns what was loaded."""
    catalog = read_catalog(folder)
    with registry_db.connect(db) as con:
        con.execute("begin transaction")
        write_catalog(con, catalog)
        con.execute("commit")
    return catalog
