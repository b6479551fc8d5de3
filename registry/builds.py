"""Which inputs the models were built from, so a rerun after a crash does not rebuild for nothing.

The fingerprint of a build is a sha256 over the list date, the content of every table dbt
reads (raw.events, raw.firms, policy.*, reference.*) and the files of the dbt project. Each
build appends `started` to ledger.model_builds before dbt runs and `finished` after dbt exits 0;
the models stand for a fingerprint only when the newest record is `finished` with it (a build
killed half-way leaves `started` last, and the next run rebuilds).
"""

from __future__ import annotations

import datetime as dt
import hashlib

import duckdb

from registry import settings

PROJECT_PARTS = ("dbt_project.yml", "profiles.yml", "packages.yml", "models", "macros", "tests", "seeds",
                 "snapshots", "analyses")


def project_digest() -> str:
    digest = hashlib.sha256()
    for part in PROJECT_PARTS:
        root = settings.DBT_PROJECT_DIR / part
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root] * root.is_file()
        for path in files:
            digest.update(path.relative_to(settings.DBT_PROJECT_DIR).as_posix().encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def fingerprint(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> str:
    digest = hashlib.sha256(f"{as_of.isoformat()}|{project_digest()}".encode())
    tables = con.execute(
        """select table_schema, table_name from information_schema.tables
           where table_type = 'BASE TABLE'
             and (table_schema in ('policy', 'reference')
                  or (table_schema = 'raw' and table_name in ('events', 'firms')))
           order by 1, 2""").fetchall()
    for schema, table in tables:
        # schema and table come from the catalog, not from a user
        rows = "string_agg(cast(t as varchar), chr(10) order by cast(t as varchar))"
        count, content = con.execute(
            f"select count(*), md5(coalesce({rows}, '')) from \"{schema}\".\"{table}\" as t").fetchone()  # noqa: S608
        digest.update(f"|{schema}.{table}:{count}:{content}".encode())
    return digest.hexdigest()


def last_build(con: duckdb.DuckDBPyConnection) -> tuple[dt.date, str, str] | None:
    return con.execute("select as_of_date, fingerprint, event from ledger.model_builds "
                       "order by build_seq desc limit 1").fetchone()


def built_from(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> str | None:
    """The fingerprint the models in marts were built from, if the last build for `as_of` finished."""
    last = last_build(con)
    return last[1] if last is not None and last[0] == as_of and last[2] == "finished" else None


def record(con: duckdb.DuckDBPyConnection, as_of: dt.date, print_: str, event: str) -> None:
    con.execute(
        "insert into ledger.model_builds select coalesce(max(build_seq), 0) + 1, ?, ?, ?, ? from ledger.model_builds",
        [as_of, print_, event, dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)])
