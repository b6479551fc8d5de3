"""Writes a validated catalog into DuckDB (`policy.*`, `reference.*`): derived data, the YAML is the truth.

`policy.clauses` has one column per declaration the models read; the amount rules' keys become the
columns `registry.catalog.amount_rules` names, so a new rule's keys reach dbt without touching this
file. `reference.amount_rules`, `reference.repeat_per`, `reference.cap_per` and the labels carry the
vocabulary of the declarations for dbt, the exports and auditors.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from registry.catalog import amount_rules
from registry.catalog.model import (
    AUTOMATIC_GROUNDS,
    CAP_PER,
    ON_LIST_GROUNDS,
    REPEAT_PER,
    SENTENCE_GROUNDS,
    UNAUTOMATED_REASONS,
    Catalog,
    Clause,
)
from registry.catalog.read import read_catalog
from registry.core import settings
from registry.store import db as registry_db
from registry.store import schema as store_schema

CLAUSE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("clause_id", "varchar primary key"), ("document_id", "varchar not null"), ("article", "varchar not null"),
    ("quote", "varchar not null"), ("reading", "varchar"), ("effective_from", "date not null"),
    ("effective_to", "date not null"), ("trigger_event_type", "varchar not null"), ("trigger_level", "varchar"),
    ("trigger_program", "varchar"), ("first_time", "boolean not null"), ("scale_condition", "varchar"),
    ("industry_scope", "varchar"), ("min_tier", "varchar"), ("rank_at_most", "integer"),
    ("rank_above", "integer"), ("min_amount_yuan", "decimal(18, 2)"), ("within_years_after_scale_up", "integer"),
    ("min_assessment", "varchar"), ("amount_rule", "varchar not null"),
    *amount_rules.param_columns(), ("amount_parameters", "varchar not null"),
    ("cap_yuan", "decimal(18, 2)"), ("annual_cap_yuan", "decimal(18, 2)"), ("caps_declared", "varchar"),
    ("stacking_group", "varchar"), ("budget_group", "varchar"), ("repeat_per", "varchar not null"),
    ("repeatable", "boolean not null"), ("automatic_ground", "varchar not null"), ("automatic_quote", "varchar"),
    ("source_file", "varchar not null"),
)
DOCUMENT_COLUMNS = (
    "document_id", "title", "doc_number", "city", "issuer", "status", "effective_from", "effective_to",
    "effective_from_basis", "seed_file", "reading", "stacking_quote", "defers_quote", "source_file",
)


def _clause_row(c: Clause) -> list[object]:
    values = {
        **{name: getattr(c, name, None) for name, _ in CLAUSE_COLUMNS if hasattr(c, name)},
        **c.amount,
        "trigger_actions": None,
        "cap_yuan": c.cap_yuan("award"), "annual_cap_yuan": c.cap_yuan("firm_year"),
        "caps_declared": json.dumps([{"yuan": str(cap.yuan), "per": cap.per, "quote": cap.quote} for cap in c.caps],
                                    ensure_ascii=False) if c.caps else None,
        "repeatable": c.repeatable,
        "amount_parameters": json.dumps({k: str(v) if v is not None else None for k, v in c.amount.items()
                                         if v not in (None, False)}, ensure_ascii=False, sort_keys=True),
    }
    return [values.get(name) for name, _ in CLAUSE_COLUMNS]


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[list[object]]) -> None:
    if rows:
        con.executemany(f"insert into {table} values ({', '.join('?' * len(rows[0]))})", rows)  # noqa: S608


def _labels(con: duckdb.DuckDBPyConnection, table: str, values: dict[str, str]) -> None:
    con.execute(f"create or replace table reference.{table} (code varchar primary key, term varchar not null)")
    _insert(con, f"reference.{table}", [[code, term] for code, term in values.items()])


def write_catalog(con: duckdb.DuckDBPyConnection, catalog: Catalog) -> None:
    """Replace the catalog tables with `catalog`."""
    columns = ", ".join(f"{name} {sql_type}" for name, sql_type in CLAUSE_COLUMNS)
    con.execute(f"create or replace table policy.clauses ({columns})")
    con.execute("""
        create or replace table policy.documents (
            document_id varchar primary key, title varchar not null, doc_number varchar, city varchar not null,
            issuer varchar not null, status varchar not null, effective_from date not null, effective_to date not null,
            effective_from_basis varchar not null, seed_file varchar, reading varchar, stacking_quote varchar,
            defers_quote varchar, source_file varchar not null);
        create or replace table policy.clause_actions (
            clause_id varchar not null, action varchar not null, primary key (clause_id, action));
        create or replace table policy.clause_holds_any (
            clause_id varchar not null, event_type varchar not null, primary key (clause_id, event_type));
        create or replace table policy.annual_cap_groups (
            cap_group varchar not null, yuan decimal(18, 2) not null, per varchar not null, clause_id varchar not null,
            quote varchar, primary key (cap_group, clause_id));
        create or replace table policy.budgets (
            budget_group varchar not null, budget_year integer not null, yuan decimal(18, 2) not null, note varchar,
            primary key (budget_group, budget_year));
        create or replace table policy.unautomated_sentences (
            document_id varchar not null, article varchar not null, quote varchar not null, reason varchar not null,
            reason_text varchar not null, ground varchar not null, ground_text varchar not null, missing_data varchar,
            note varchar);
        create or replace table reference.cities (
            city varchar primary key, name varchar not null, division_prefix varchar not null);
        create or replace table reference.industry_scope_prefixes (
            scope varchar not null, term varchar not null, prefix varchar not null, reading varchar,
            primary key (scope, prefix));
        create or replace table reference.automatic_grounds (
            ground varchar primary key, description varchar not null, on_automatic_list boolean not null);
        create or replace table reference.amount_rules (
            amount_rule varchar primary key, label_zh varchar not null, label_en varchar not null);
    """)
    _insert(con, "policy.documents", [[getattr(d, name) for name in DOCUMENT_COLUMNS] for d in catalog.documents])
    _insert(con, "policy.clauses", [_clause_row(c) for c in catalog.clauses])
    _insert(con, "policy.clause_actions", [[c.clause_id, a] for c in catalog.clauses for a in c.trigger_actions])
    _insert(con, "policy.clause_holds_any", [[c.clause_id, t] for c in catalog.clauses for t in c.holds_any])
    _insert(con, "policy.annual_cap_groups", [[cap.cap_group, cap.yuan, cap.per, clause_id, cap.quote]
                                              for cap in catalog.annual_caps for clause_id in cap.clause_ids])
    _insert(con, "policy.budgets", [[b.budget_group, b.budget_year, b.yuan, b.note] for b in catalog.budgets])
    _insert(con, "policy.unautomated_sentences", [[u.document_id, u.article, u.quote, u.reason,
                                                   UNAUTOMATED_REASONS[u.reason], u.ground, SENTENCE_GROUNDS[u.ground],
                                                   u.missing_data, u.note] for u in catalog.unautomated])
    _insert(con, "reference.cities", [[c["city"], c["name"], str(c["division_prefix"])] for c in catalog.cities])
    _insert(con, "reference.industry_scope_prefixes", [[s["scope"], s["term"], str(p), s.get("reading")]
                                                       for s in catalog.scopes for p in s["prefixes"]])
    _insert(con, "reference.automatic_grounds", [[g, d, g in ON_LIST_GROUNDS] for g, d in AUTOMATIC_GROUNDS.items()])
    _insert(con, "reference.amount_rules", [[r.name, r.label_zh, r.label_en] for r in amount_rules.RULES.values()])
    _labels(con, "repeat_per", REPEAT_PER)
    _labels(con, "cap_per", CAP_PER)


def load_catalog(db: Path, folder: Path = settings.POLICY_DIR) -> Catalog:
    """Read, validate and write the catalog into `db` in one transaction; returns what was loaded."""
    catalog = read_catalog(folder)
    with registry_db.connect(db) as con:
        con.execute("begin transaction")
        store_schema.write_vocabulary(con)
        write_catalog(con, catalog)
        con.execute("commit")
    return catalog
