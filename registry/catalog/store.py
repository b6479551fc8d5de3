"""Writes a validated catalog into DuckDB (`policy.*`, `reference.*`): derived data, the YAML is the truth."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import duckdb

from registry.catalog.read import (
    AUTOMATIC_GROUNDS,
    ON_LIST_GROUNDS,
    UNAUTOMATED_REASONS,
    Catalog,
    Clause,
    Document,
    read_catalog,
)
from registry.core import settings
from registry.store import db as registry_db

SQL_TYPES = {
    "str": "varchar", "str | None": "varchar", "bool": "boolean", "int | None": "integer", "int": "integer",
    "dt.date": "date", "Decimal | None": "decimal(18, 4)", "Decimal": "decimal(18, 4)",
    "tuple[str, ...]": "varchar[]",
}


def _table_for(con: duckdb.DuckDBPyConnection, table: str, cls: type, key: str) -> None:
    columns = ", ".join(f"{f.name} {SQL_TYPES[str(f.type)]}" for f in dataclasses.fields(cls))
    con.execute(f"create or replace table {table} ({columns}, primary key ({key}))")


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[list[object]]) -> None:
    if rows:
        con.executemany(f"insert into {table} values ({', '.join('?' * len(rows[0]))})", rows)  # noqa: S608


def write_catalog(con: duckdb.DuckDBPyConnection, catalog: Catalog) -> None:
    """Replace the catalog tables with `catalog`."""
    _table_for(con, "policy.documents", Document, "document_id")
    _table_for(con, "policy.clauses", Clause, "clause_id")
    con.execute("""
        create or replace table policy.clause_actions (
            clause_id varchar not null, action varchar not null, primary key (clause_id, action));
        create or replace table policy.annual_cap_groups (
            cap_group varchar not null, yuan decimal(18, 2) not null, clause_id varchar not null, quote varchar,
            primary key (cap_group, clause_id));
        create or replace table policy.budgets (
            budget_group varchar not null, budget_year integer not null, yuan decimal(18, 2) not null, note varchar,
            primary key (budget_group, budget_year));
        create or replace table policy.unautomated_sentences (
            document_id varchar not null, article varchar not null, quote varchar not null, reason varchar not null,
            reason_text varchar not null, note varchar);
        create or replace table reference.cities (
            city varchar primary key, name varchar not null, division_prefix varchar not null);
        create or replace table reference.industry_scope_prefixes (
            scope varchar not null, term varchar not null, prefix varchar not null, reading varchar,
            primary key (scope, prefix));
        create or replace table reference.automatic_grounds (
            ground varchar primary key, description varchar not null, on_automatic_list boolean not null);
    """)
    _insert(con, "policy.documents", [list(dataclasses.astuple(d)) for d in catalog.documents])
    _insert(con, "policy.clauses", [[list(v) if isinstance(v, tuple) else v for v in dataclasses.astuple(c)]
                                    for c in catalog.clauses])
    _insert(con, "policy.clause_actions", [[c.clause_id, a] for c in catalog.clauses for a in c.trigger_actions])
    _insert(con, "policy.annual_cap_groups", [[cap.cap_group, cap.yuan, clause_id, cap.quote]
                                              for cap in catalog.annual_caps for clause_id in cap.clause_ids])
    _insert(con, "policy.budgets", [[b.budget_group, b.budget_year, b.yuan, b.note] for b in catalog.budgets])
    _insert(con, "policy.unautomated_sentences", [[u.document_id, u.article, u.quote, u.reason,
                                                   UNAUTOMATED_REASONS[u.reason], u.note]
                                                  for u in catalog.unautomated])
    _insert(con, "reference.cities", [[c["city"], c["name"], str(c["division_prefix"])] for c in catalog.cities])
    _insert(con, "reference.industry_scope_prefixes", [[s["scope"], s["term"], str(p), s.get("reading")]
                                                       for s in catalog.scopes for p in s["prefixes"]])
    _insert(con, "reference.automatic_grounds", [[g, d, g in ON_LIST_GROUNDS] for g, d in AUTOMATIC_GROUNDS.items()])


def load_catalog(db: Path, folder: Path = settings.POLICY_DIR) -> Catalog:
    """Read, validate and write the catalog into `db` in one transaction; returns what was loaded."""
    catalog = read_catalog(folder)
    with registry_db.connect(db) as con:
        con.execute("begin transaction")
        write_catalog(con, catalog)
        con.execute("commit")
    return catalog
