"""Which inputs the models were built from: skip a build that has nothing to do, and tell an
incremental night what changed since the last one.

A build's inputs are the list date, the models' digest (the dbt project's files and the content
of the tables that define the rules: policy.*, reference.*) and the loads in raw.events and
raw.firms with their row counts (raw tables are append-only: new facts arrive as new loads).

Each build appends `started` to ledger.model_builds before dbt runs and `finished` after dbt
exits 0; the models stand for a fingerprint only when the newest record is `finished` with it
(a build killed half-way leaves `started` last, and the next run rebuilds). The loads a finished
build took in are kept in ledger.model_build_loads, so the next night knows which are new.

The plan (`plan`): nothing to do when the last finished build had the same fingerprint; an
incremental build (var changed_since: the last list date and the new loads; dbt recomputes only
the firms those touch, dbt_project/macros/changed_firms.sql) when the last record is a finished
build with the same models' digest, for a list date not after tonight's, whose loads are all still
there unchanged; otherwise a full refresh.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field

import duckdb

from registry.core import settings

PROJECT_PARTS = ("dbt_project.yml", "profiles.yml", "packages.yml", "models", "macros", "tests", "seeds",
                 "snapshots", "analyses")
FULL, INCREMENTAL = "full", "incremental"


def project_digest() -> str:
    digest = hashlib.sha256()
    for part in PROJECT_PARTS:
        root = settings.DBT_PROJECT_DIR / part
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root] * root.is_file()
        for path in files:
            digest.update(path.relative_to(settings.DBT_PROJECT_DIR).as_posix().encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def models_digest(con: duckdb.DuckDBPyConnection, engine: str = settings.DUCKDB) -> str:
    """The dbt project, the rule tables (policy.*, reference.*) and the engine: when it changes,
    every firm's rows may change (or the incremental state is another engine's), so the next build
    is a full refresh. The default engine adds nothing, so DuckDB digests stay what they were."""
    digest = hashlib.sha256(project_digest().encode())
    if engine != settings.DUCKDB:
        digest.update(f"|engine:{engine}".encode())
    tables = con.execute(
        """select table_schema, table_name from information_schema.tables
           where table_type = 'BASE TABLE' and table_schema in ('policy', 'reference')
           order by 1, 2""").fetchall()
    for schema, table in tables:
        # schema and table come from the catalog, not from a user
        rows = "string_agg(cast(t as varchar), chr(10) order by cast(t as varchar))"
        count, content = con.execute(
            f"select count(*), md5(coalesce({rows}, '')) from \"{schema}\".\"{table}\" as t").fetchone()  # noqa: S608
        digest.update(f"|{schema}.{table}:{count}:{content}".encode())
    return digest.hexdigest()


def loads(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rows per load in the tables the models read (raw.events, raw.firms)."""
    rows = con.execute("""select load_id, sum(n) from (
                              select load_id, count(*) as n from raw.events group by load_id
                              union all
                              select load_id, count(*) as n from raw.firms group by load_id
                          ) group by load_id""").fetchall()
    return {load_id: int(n) for load_id, n in rows}


@dataclass(frozen=True)
class Plan:
    """What a build for `as_of` does: `mode` is full or incremental; `since` the dbt var
    changed_since of an incremental build; `new_loads` the loads this build takes in."""

    as_of: dt.date
    fingerprint: str
    models_digest: str
    mode: str
    new_loads: dict[str, int] = field(default_factory=dict)
    since: dict | None = None
    up_to_date: bool = False
    reason: str = ""


def fingerprint(as_of: dt.date, digest: str, current: dict[str, int]) -> str:
    loads_text = json.dumps(sorted(current.items()))
    return hashlib.sha256(f"{as_of.isoformat()}|{digest}|{loads_text}".encode()).hexdigest()


def last_build(con: duckdb.DuckDBPyConnection) -> tuple[dt.date, str, str, str | None] | None:
    return con.execute("select as_of_date, fingerprint, event, models_digest from ledger.model_builds "
                       "order by build_seq desc limit 1").fetchone()


def built_from(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> str | None:
    """The fingerprint the models in marts were built from, if the last build for `as_of` finished."""
    last = last_build(con)
    return last[1] if last is not None and last[0] == as_of and last[2] == "finished" else None


def built_loads(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """The loads the models have taken in (rows per load), over all finished builds."""
    rows = con.execute("select load_id, max(rows_built) from ledger.model_build_loads group by load_id").fetchall()
    return {load_id: int(n) for load_id, n in rows}


def _has_marts(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(con.execute("select count(*) from information_schema.tables "
                            "where table_schema = 'marts' and table_name = 'build_info'").fetchone()[0])


def plan(con: duckdb.DuckDBPyConnection, as_of: dt.date, engine: str = settings.DUCKDB) -> Plan:
    digest = models_digest(con, engine)
    current = loads(con)
    print_ = fingerprint(as_of, digest, current)
    last = last_build(con)
    if last is not None and last[0] == as_of and last[1] == print_ and last[2] == "finished":
        return Plan(as_of, print_, digest, INCREMENTAL, up_to_date=True, reason="nothing new since the last build")
    built = built_loads(con)
    vanished = sorted(load for load, n in built.items() if current.get(load, 0) < n)
    reason = ("no finished build before" if last is None
              else "the last build did not finish" if last[2] != "finished"
              else "the dbt project, the catalog or the engine changed" if last[3] != digest
              else f"the list date {as_of} is before the last build's {last[0]}" if as_of < last[0]
              else f"rows of loads already built are gone: {', '.join(vanished[:3])}" if vanished
              else "the models are missing" if not _has_marts(con)
              else "")
    new_loads = {load: n for load, n in current.items() if built.get(load) != n}
    if reason:
        return Plan(as_of, print_, digest, FULL, new_loads=current, reason=reason)
    since = {"as_of_date": last[0].isoformat(), "load_ids": sorted(new_loads)}
    return Plan(as_of, print_, digest, INCREMENTAL, new_loads=new_loads, since=since,
                reason=f"{len(new_loads)} new loads, list date {last[0]} -> {as_of}")


def record(con: duckdb.DuckDBPyConnection, build: Plan, event: str) -> None:
    seq = con.execute("select coalesce(max(build_seq), 0) + 1 from ledger.model_builds").fetchone()[0]
    con.execute("insert into ledger.model_builds values (?, ?, ?, ?, ?, ?, ?)",
                [seq, build.as_of, build.fingerprint, event,
                 dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0), build.mode, build.models_digest])
    if event == "finished" and build.new_loads:
        con.executemany("insert into ledger.model_build_loads values (?, ?, ?)",
                        [[seq, load, n] for load, n in sorted(build.new_loads.items())])
