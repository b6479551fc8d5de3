"""The DuckDB file: connections and the tables the registry itself owns.

dbt owns `staging`, `intermediate`, `marts` and `audit`; the registry owns what is written
outside dbt: `raw` (landed rows with lineage, quarantine, load log), `reference` (the
vocabulary), `policy` (the catalog) and `ledger` (append-only). DuckDB allows one writer
process at a time, so every writer opens, works and closes: nothing holds the file.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from registry import ledger_schema, vocabulary

SCHEMAS = ("raw", "reference", "policy", "ledger")

DDL = """
create table if not exists raw.loads (
    load_id        varchar primary key,
    source         varchar not null,
    file_name      varchar not null,
    file_sha256    varchar not null,
    ingested_at    timestamp not null,
    rows_read      integer not null,
    rows_landed    integer not null,
    rows_quarantined integer not null,
    rows_duplicate integer not null,
    gx_success     boolean,
    gx_summary     varchar,
    gx_result      json
);
create table if not exists raw.events (
    event_key      varchar primary key,
    uscc           varchar not null,
    firm_name      varchar,
    event_type     varchar not null,
    action         varchar not null,
    level          varchar,
    effective_date date not null,
    published_date date,
    document_ref   varchar,
    program        varchar,
    amount         decimal(18, 2),
    fiscal_year    integer,
    revenue        decimal(18, 2),
    profit         decimal(18, 2),
    wages          decimal(18, 2),
    rank           integer,
    related_uscc   varchar,
    source         varchar not null,
    file_sha256    varchar not null,
    row_number     integer not null,
    ingested_at    timestamp not null,
    load_id        varchar not null
);
create table if not exists raw.firms (
    firm_key       varchar primary key,
    uscc           varchar not null,
    firm_name      varchar not null,
    division_code  varchar not null,
    industry_code  varchar not null,
    registered_date date,
    source         varchar not null,
    file_sha256    varchar not null,
    row_number     integer not null,
    ingested_at    timestamp not null,
    load_id        varchar not null
);
create table if not exists raw.quarantine (
    load_id        varchar not null,
    source         varchar not null,
    file_name      varchar not null,
    file_sha256    varchar not null,
    row_number     integer not null,
    field          varchar not null,
    value          varchar,
    reason         varchar not null,
    raw_row        json,
    ingested_at    timestamp not null
);
create or replace table reference.event_types (
    event_type     varchar primary key,
    term           varchar not null,
    kind           varchar not null,
    validity_years integer,
    tier_rank      integer
);
create or replace table reference.actions (action varchar primary key, term varchar not null);
create or replace table reference.levels (level varchar primary key, term varchar not null);
"""


def _write_vocabulary(con: duckdb.DuckDBPyConnection) -> None:
    con.executemany(
        "insert into reference.event_types values (?, ?, ?, ?, ?)",
        [(t.name, t.term, t.kind, t.validity_years, t.tier_rank) for t in vocabulary.EVENT_TYPES],
    )
    con.executemany("insert into reference.actions values (?, ?)", list(vocabulary.ACTIONS.items()))
    con.executemany("insert into reference.levels values (?, ?)", list(vocabulary.LEVELS.items()))


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create what the registry owns; rewrite the vocabulary tables from `registry.vocabulary`."""
    for schema in SCHEMAS:
        con.execute(f"create schema if not exists {schema}")
    con.execute(DDL)
    _write_vocabulary(con)
    ledger_schema.ensure(con)  # the append-only ledger: registry/ledger_schema.py


@contextmanager
def connect(db: Path, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the database, make sure the registry's tables exist, and always close it."""
    if read_only and not db.exists():
        raise FileNotFoundError(f"no registry database at {db}: run `registry demo` or an ingest first")
    db.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(db), read_only=read_only)
    try:
        if not read_only:
            ensure_schema(con)
        yield con
    finally:
        con.close()
