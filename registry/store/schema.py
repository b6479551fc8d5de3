"""The tables the registry owns outside dbt and the ledger: `raw`, `reference`, `policy`.

Created by an explicit step (`ensure`, called by `registry init` and by the night's first step),
never as a side effect of connecting. `raw` holds landed rows with lineage, the quarantine and the
load log; `reference` the vocabulary (event types, actions, levels, programs; rewritten from
`registry.core.vocabulary` by `ensure`, so dbt tests and the catalog check against the same lists); `policy` the catalog
(`registry.catalog.store`). The ledger's own schema is `registry.ledger.schema`.
"""

from __future__ import annotations

import duckdb

from registry.core import vocabulary

SCHEMAS = ("raw", "reference", "policy")

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
    gx_result      json,          -- the outcome of each expectation (failing rows by their row_number)
    gx_docs        varchar        -- this load's GX Data Docs page, relative to the database's folder
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
"""


VOCABULARY_DDL = """
create or replace table reference.event_types (
    event_type     varchar primary key,
    term           varchar not null,
    kind           varchar not null,
    validity_years integer,
    tier_rank      integer
);
create or replace table reference.actions (action varchar primary key, term varchar not null);
create or replace table reference.levels (level varchar primary key, term varchar not null);
create or replace table reference.programs (
    event_type     varchar not null,
    program        varchar not null,
    term           varchar not null,
    primary key (event_type, program)
);
"""


def write_vocabulary(con: duckdb.DuckDBPyConnection) -> None:
    """Rewrite reference.event_types / actions / levels / programs from `registry.core.vocabulary`
    (reference.programs: the closed programs of each event type that carries one; a type with a
    free-text program, such as the product of `product_security_evaluation`, has no rows)."""
    con.execute(VOCABULARY_DDL)
    con.executemany(
        "insert into reference.event_types values (?, ?, ?, ?, ?)",
        [(t.name, t.term, t.kind, t.validity_years, t.tier_rank) for t in vocabulary.EVENT_TYPES],
    )
    con.executemany("insert into reference.actions values (?, ?)", list(vocabulary.ACTIONS.items()))
    con.executemany("insert into reference.levels values (?, ?)", list(vocabulary.LEVELS.items()))
    con.executemany("insert into reference.programs values (?, ?, ?)",
                    [(t, p.name, p.term) for t, programs in vocabulary.PROGRAMS.items() for p in programs])


def ensure(con: duckdb.DuckDBPyConnection) -> None:
    """Create the schemas and raw tables that do not exist yet; rewrite the vocabulary tables."""
    for name in SCHEMAS:
        con.execute(f"create schema if not exists {name}")
    con.execute(DDL)
    con.execute("alter table raw.loads add column if not exists gx_docs varchar")  # databases made before it
    write_vocabulary(con)
