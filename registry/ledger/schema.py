"""The `ledger` schema: tables whose rows, once written, the database itself keeps from changing.

DuckDB has no triggers and no grants, so append-only is enforced with constraints:

* Deterministic keys. `ledger.entitlements` has its primary key on the entitlement key
  (clause, firm, triggering event, award year) and a CHECK that `entitlement_id` is the hash
  of that key (the same id dbt derives); a line's id is a CHECKed hash of (entitlement, list
  date). Nothing run-specific (an Airflow run id, a timestamp) can enter a key.
* Hash chains. `lines`, `lists` and `holds` each carry `prev_hash` and `row_hash`, with
  `CHECK (row_hash = sha256(prev_hash || content))` and `UNIQUE (prev_hash)`: editing a row's
  content requires changing its hash. DuckDB refuses to change the hash of, or delete, a row
  that a foreign key references: each list and hold is referenced by the next one
  (`prev_hash -> row_hash`), each line by its facts (`line_facts.line_id`) and by every later
  line of its entitlement (`original_line_id`). (Lines are not chained by a foreign key: DuckDB
  checks a foreign key against the rows present before the statement, so a night of lines
  could not be inserted in one statement.) The nightly check (registry.ledger.invariants) recomputes
  every chain and compares the ledger with the last published snapshot, which covers what
  the constraints leave open (the newest list and hold; a line whose facts were deleted first).

The content hashed is built in SQL here and in Python by `row_hash`; the CHECK makes sure
both agree (a mismatch fails the insert).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import duckdb

from registry.core.errors import RegistryError


class LedgerError(RegistryError):
    """The ledger refuses a night (wrong order, stale models, conflicting amounts, broken invariant)."""


SEPARATOR = "\x1f"  # ASCII unit separator: never in a name, an amount or a date

# (column, kind) in hashing order; kinds: text, int, date, yuan, bool, ts
LINE_HASHED: tuple[tuple[str, str], ...] = (
    ("seq", "int"), ("line_id", "text"), ("list_date", "date"), ("entitlement_id", "text"),
    ("clause_id", "text"), ("uscc", "text"), ("trigger_event_id", "text"), ("award_year", "int"),
    ("firm_name", "text"), ("city", "text"), ("document_title", "text"), ("article", "text"),
    ("kind", "text"), ("amount", "yuan"), ("payable_amount", "yuan"), ("entitled_amount", "yuan"),
    ("amount_rule", "text"), ("is_cap", "bool"), ("is_draft", "bool"), ("status", "text"),
    ("stacking_group", "text"), ("repeatable", "bool"), ("reason_code", "text"), ("reason", "text"),
    ("original_line_id", "text"), ("rule_version", "text"),
)
LIST_HASHED: tuple[tuple[str, str], ...] = (
    ("list_date", "date"), ("prev_list_date", "date"), ("line_count", "int"), ("total", "yuan"),
    ("first_seq", "int"), ("last_seq", "int"), ("lines_head", "text"), ("csv_name", "text"),
    ("inputs_fingerprint", "text"), ("notice_days", "int"), ("notice_ends", "date"),
)
HOLD_HASHED: tuple[tuple[str, str], ...] = (
    ("hold_seq", "int"), ("entitlement_id", "text"), ("action", "text"), ("reason", "text"),
    ("actor", "text"), ("recorded_at", "ts"), ("after_list_date", "date"),
)

_SQL_FORMAT = {
    "text": "coalesce({c}, '')",
    "int": "coalesce(cast({c} as varchar), '')",
    "date": "coalesce(strftime({c}, '%Y-%m-%d'), '')",
    "yuan": "coalesce(cast({c} as varchar), '')",
    "bool": "case when {c} then '1' when not {c} then '0' else '' end",
    "ts": "coalesce(strftime({c}, '%Y-%m-%dT%H:%M:%S'), '')",
}


def sql_row_hash(fields: Sequence[tuple[str, str]]) -> str:
    """The row's hash as a SQL expression over its columns: the CHECK constraint of each chained
    table, and the nightly chain check (invariants.check_chain). row_hash is its Python twin, for
    the rows being written (the constraint refuses a row on which the two disagree)."""
    parts = " || chr(31) || ".join(_SQL_FORMAT[kind].format(c=column) for column, kind in fields)
    return f"sha256(coalesce(prev_hash, '') || chr(31) || {parts})"


def _py(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if kind == "yuan":
        return f"{Decimal(value) + 0:.2f}"  # + 0 turns -0.00 into 0.00, as DuckDB prints it
    if kind == "bool":
        return "1" if value else "0"
    if kind == "date":
        return value.isoformat()
    if kind == "ts":
        return value.strftime("%Y-%m-%dT%H:%M:%S")
    return str(value)


def row_hash(prev_hash: str | None, row: Mapping[str, Any], fields: Sequence[tuple[str, str]]) -> str:
    """The hash the CHECK constraint expects for `row` after `prev_hash`."""
    content = SEPARATOR.join(_py(row[column], kind) for column, kind in fields)
    return hashlib.sha256(f"{prev_hash or ''}{SEPARATOR}{content}".encode()).hexdigest()


def entitlement_id(clause_id: str, uscc: str, trigger_event_id: str) -> str:
    """The id dbt derives (fct_entitlements): md5 of clause|firm|triggering event, 16 hex."""
    return hashlib.md5(f"{clause_id}|{uscc}|{trigger_event_id}".encode()).hexdigest()[:16]


def line_id(entitlement: str, list_date: dt.date) -> str:
    return hashlib.sha256(f"{entitlement}|{list_date.isoformat()}".encode()).hexdigest()[:16]


DDL = f"""
create table if not exists ledger.lists (
    list_date          date primary key,
    prev_list_date     date unique references ledger.lists (list_date),
    line_count         integer not null check (line_count >= 0),
    total              decimal(18, 2) not null,
    first_seq          bigint,
    last_seq           bigint,
    lines_head         varchar,
    csv_name           varchar not null,
    inputs_fingerprint varchar not null,
    notice_days        integer not null check (notice_days >= 0),
    notice_ends        date not null,
    published_at       timestamp not null,
    prev_hash          varchar unique references ledger.lists (row_hash),
    row_hash           varchar not null unique,
    check (prev_list_date is null or prev_list_date < list_date),
    check ((prev_hash is null) = (prev_list_date is null)),
    check (notice_ends = list_date + notice_days),
    check ((line_count = 0) = (first_seq is null) and (line_count = 0) = (last_seq is null)),
    check (line_count = 0 or last_seq - first_seq + 1 = line_count),
    check (row_hash = {sql_row_hash(LIST_HASHED)})
);
create table if not exists ledger.entitlements (
    clause_id          varchar not null,
    uscc               varchar not null,
    trigger_event_id   varchar not null,
    award_year         integer not null,
    entitlement_id     varchar not null unique,
    trigger_event_type varchar,
    trigger_level      varchar,
    trigger_date       date,
    first_list_date    date not null references ledger.lists (list_date),
    primary key (clause_id, uscc, trigger_event_id, award_year),
    check (entitlement_id = substring(md5(clause_id || '|' || uscc || '|' || trigger_event_id), 1, 16))
);
create table if not exists ledger.lines (
    seq                bigint not null unique check (seq > 0),
    line_id            varchar primary key,
    list_date          date not null references ledger.lists (list_date),
    entitlement_id     varchar not null references ledger.entitlements (entitlement_id),
    clause_id          varchar not null,
    uscc               varchar not null,
    trigger_event_id   varchar not null,
    award_year         integer not null,
    firm_name          varchar,
    city               varchar,
    document_title     varchar not null,
    article            varchar not null,
    kind               varchar not null check (kind in ('award', 'reversal')),
    amount             decimal(18, 2) not null,
    payable_amount     decimal(18, 2) not null check (payable_amount >= 0),
    entitled_amount    decimal(18, 2),
    amount_rule        varchar,
    is_cap             boolean not null,
    is_draft           boolean not null,
    status             varchar,
    stacking_group     varchar,
    repeatable         boolean,
    reason_code        varchar not null,
    reason             varchar not null,
    original_line_id   varchar references ledger.lines (line_id),
    rule_version       varchar,
    listed_at          timestamp not null,
    prev_hash          varchar unique,
    row_hash           varchar not null unique,
    unique (entitlement_id, list_date),
    check ((kind = 'award' and amount > 0) or (kind = 'reversal' and amount < 0)),
    check (kind = 'award' or original_line_id is not null),
    check (line_id = substring(sha256(entitlement_id || '|' || strftime(list_date, '%Y-%m-%d')), 1, 16)),
    check (entitlement_id = substring(md5(clause_id || '|' || uscc || '|' || trigger_event_id), 1, 16)),
    check ((prev_hash is null) = (seq = 1)),
    check (row_hash = {sql_row_hash(LINE_HASHED)})
);
create table if not exists ledger.line_facts (
    line_id            varchar not null references ledger.lines (line_id),
    event_id           varchar not null,
    role               varchar not null,
    primary key (line_id, event_id, role)
);
create table if not exists ledger.clause_versions (
    rule_version       varchar primary key,
    clause_id          varchar not null,
    document_id        varchar,
    document_title     varchar,
    doc_number         varchar,
    document_status    varchar,
    article            varchar,
    quote              varchar,
    clause_reading     varchar,
    amount_rule        varchar,
    rule_text          varchar not null,
    first_list_date    date not null references ledger.lists (list_date)
);
create table if not exists ledger.confirmations (
    list_date          date primary key references ledger.lists (list_date),
    confirmed_on       date not null references ledger.lists (list_date),
    check (confirmed_on >= list_date)
);
create table if not exists ledger.holds (
    hold_seq           integer not null unique check (hold_seq > 0),
    entitlement_id     varchar not null references ledger.entitlements (entitlement_id),
    action             varchar not null check (action in ('hold', 'release')),
    reason             varchar not null check (length(trim(reason)) > 0),
    actor              varchar not null check (length(trim(actor)) > 0),
    recorded_at        timestamp not null,
    after_list_date    date not null references ledger.lists (list_date),
    prev_hash          varchar unique references ledger.holds (row_hash),
    row_hash           varchar primary key,
    check ((prev_hash is null) = (hold_seq = 1)),
    check (row_hash = {sql_row_hash(HOLD_HASHED)})
);
create table if not exists ledger.model_builds (
    build_seq          integer primary key,
    as_of_date         date not null,
    fingerprint        varchar not null,
    event              varchar not null check (event in ('started', 'finished')),
    recorded_at        timestamp not null,
    mode               varchar not null check (mode in ('full', 'incremental')),
    models_digest      varchar not null
);
-- The loads (raw.events / raw.firms rows per load) each finished build took in (registry.models.builds).
create table if not exists ledger.model_build_loads (
    build_seq          integer not null,
    load_id            varchar not null,
    rows_built         bigint not null,
    primary key (build_seq, load_id)
);
-- What each build is told, written before dbt starts (registry.models.builds): its list date, its mode
-- and, when incremental, the list date changes are counted from and the loads landed since. dbt reads
-- the newest plan (dbt_project/macros/build_plan.sql) instead of command-line vars, which would make
-- it parse the whole project again every night.
create table if not exists ledger.model_build_plan (
    build_seq          integer primary key,
    as_of_date         date not null,
    mode               varchar not null check (mode in ('full', 'incremental')),
    changed_since      date,
    check ((changed_since is null) = (mode = 'full'))
);
create table if not exists ledger.model_build_plan_loads (
    build_seq          integer not null,
    load_id            varchar not null,
    primary key (build_seq, load_id)
);
-- The firms each incremental build recomputed (recorded by dbt: the post-hook of int_changed_firms):
-- that build's data tests over history look at these firms only (dbt_project/macros/build_plan.sql),
-- and an auditors' snapshot by difference could replace exactly their rows (issue 14.2, not done).
-- Kept for the last builds only.
create table if not exists ledger.model_build_firms (
    build_seq          integer not null,
    uscc               varchar not null
);
"""

# Tables an auditor's snapshot must hold unchanged in every later ledger (append-only).
APPEND_ONLY_TABLES = ("lists", "entitlements", "lines", "line_facts", "clause_versions", "confirmations", "holds")


def ensure(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists ledger")
    con.execute(DDL)
