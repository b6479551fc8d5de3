"""One benchmark step per child process: `python -m bench.steps STEP ARGS... --result FILE`.

The harness (bench/run.py) starts each step as its own process so that its wall time and its
peak resident memory (and that of the dbt process it starts) are the step's alone. Each step
writes what it measured or computed as JSON to --result.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

BENCH_DIR = Path(__file__).resolve().parent
FLOOR_SQL = BENCH_DIR / "floor.sql"

# DuckDB types of the contract fields, as raw.events / raw.firms store them.
FIELD_TYPES = {
    "effective_date": "DATE", "published_date": "DATE", "registered_date": "DATE",
    "amount": "DECIMAL(18,2)", "revenue": "DECIMAL(18,2)", "profit": "DECIMAL(18,2)", "wages": "DECIMAL(18,2)",
    "fiscal_year": "INTEGER", "rank": "INTEGER",
}


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def header_of(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig") as handle:
        return handle.readline().strip().split(",")


def step_generate(firms: int, events: int, night_events: int, out: Path) -> dict[str, Any]:
    from dataclasses import asdict

    from bench.synthetic import generate

    return asdict(generate(out, firms, events, night_events=night_events))


def step_ingest(pairs: list[tuple[str, Path]], db: Path) -> dict[str, Any]:
    """The real ingest path: registry.ingest.ingest_file (contract parsers, GX, lineage, dedup),
    for each (source, file) in turn; `seconds` is the last file's (the one being measured)."""
    from registry.ingest.land import ingest_file
    from registry.pipeline.setup import init_database

    if not db.exists():
        init_database(db)
    per_file = []
    for source, file in pairs:
        started = time.perf_counter()
        report = ingest_file(source, file, db)
        per_file.append({"source": source, "file": str(file), "seconds": time.perf_counter() - started,
                         "read": report.read, "landed": report.landed, "quarantined": report.quarantined,
                         "duplicate": report.duplicate, "gx_success": report.gx_success})
    return {**per_file[-1], "per_file": per_file}


def step_bare_read(file: Path, db: Path) -> dict[str, Any]:
    """DuckDB alone: read_csv of the same file, typed as raw.events types it, into a table."""
    db.unlink(missing_ok=True)
    columns = ", ".join(f"'{name}': '{FIELD_TYPES.get(name, 'VARCHAR')}'" for name in header_of(file))
    started = time.perf_counter()
    with duckdb.connect(str(db)) as con:
        con.execute(f"create table events as select * from read_csv(?, header = true, "  # noqa: S608
                    f"columns = {{{columns}}})", [str(file)])
        rows = con.execute("select count(*) from events").fetchone()[0]
    return {"seconds": time.perf_counter() - started, "rows": rows}


def step_fast_ingest(file: Path, db: Path, run_gx: bool | str = True) -> dict[str, Any]:
    """The vectorised prototype (bench/fast_ingest.py) into a fresh database."""
    from bench.fast_ingest import fast_ingest_events

    db.unlink(missing_ok=True)
    return fast_ingest_events(file, db, run_gx=run_gx)


def step_compare_ingest(real_db: Path, fast_db: Path) -> dict[str, Any]:
    """Do the real ingest and the prototype land the same facts (same keys, same typed values)?"""
    started = time.perf_counter()
    with duckdb.connect() as con:
        con.execute("attach ? as r (read_only)", [str(real_db)])
        con.execute("attach ? as f (read_only)", [str(fast_db)])
        columns = [c for (c,) in con.execute(
            "select column_name from information_schema.columns where table_catalog = 'f' "
            "and table_schema = 'raw' and table_name = 'events' order by ordinal_position").fetchall()
            if c not in {"source", "file_sha256", "row_number", "ingested_at", "load_id"}]
        cols = ", ".join(columns)
        only_real = con.execute(f"select count(*) from (select {cols} from r.raw.events "  # noqa: S608
                                f"except all select {cols} from f.raw.events)").fetchone()[0]
        only_fast = con.execute(f"select count(*) from (select {cols} from f.raw.events "  # noqa: S608
                                f"except all select {cols} from r.raw.events)").fetchone()[0]
        rows = con.execute("select count(*) from f.raw.events").fetchone()[0]
    return {"seconds": time.perf_counter() - started, "rows": rows, "only_real": only_real, "only_fast": only_fast,
            "same": only_real == 0 and only_fast == 0}


def model_totals(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Any]]:
    """Per clause: payable count and total from marts.fct_entitlements, as the list would pay."""
    columns = {c for (c,) in con.execute(
        "select column_name from information_schema.columns "
        "where table_schema = 'marts' and table_name = 'fct_entitlements'").fetchall()}
    amount = "payable_amount" if "payable_amount" in columns else "entitled_amount"
    rows = con.execute(f"select clause_id, count(*), sum({amount}) from marts.fct_entitlements "  # noqa: S608
                       "where status = 'payable' group by clause_id").fetchall()
    return {clause: {"count": count, "total": total} for clause, count, total in rows}


# The catalog columns the floor implements; a clause using any other (a value that is not null or
# false) is reported as not covered, and so is every clause sharing its stacking group.
FLOOR_CLAUSE_COLUMNS = {
    "clause_id", "document_id", "article", "quote", "reading", "effective_from", "effective_to",
    # the trigger
    "trigger_event_type", "trigger_level", "trigger_program", "trigger_actions",
    # conditions
    "first_time", "scale_condition", "industry_scope", "min_tier", "rank_at_most", "rank_above", "min_amount_yuan",
    "within_years_after_scale_up", "min_assessment",
    # amount rules' parameters (FLOOR_AMOUNT_RULES)
    "amount_rule", "amount_yuan", "percent", "min_base_yuan", "related_event_type", "related_program",
    "related_window", "min_growth_percent", "weight_revenue", "weight_profit", "weight_wages",
    "min_contribution_yuan", "stock_unit_yuan", "stock_unit_award_yuan", "increase_unit_yuan",
    "increase_unit_award_yuan",
    # caps, stacking, repeats, budgets, the list
    "cap_yuan", "annual_cap_yuan", "stacking_group", "budget_group", "repeat_per", "repeatable", "automatic_ground",
    "automatic_quote", "source_file",
    # descriptive columns (the same facts as the columns above, as text for people; percent_is_cap only
    # flags the amount as a cap, 不超过 X% planned at X%)
    "amount_parameters", "caps_declared", "percent_is_cap",
}
# The amount rules, what a clause repeats over (every key the models know: firm, level, program,
# designation, grant, project, project_year, fiscal_year, tenant), and the values of the columns the
# floor reads as a choice among known ones; any other value is reported as not covered.
FLOOR_AMOUNT_RULES = {"fixed", "up_to", "percent_of_trigger", "percent_of_related", "revenue_growth", "contribution",
                      "per_incubated_hitech"}
FLOOR_REPEAT_PER = {"firm", "level", "program", "designation", "grant", "project", "project_year", "fiscal_year",
                    "tenant"}
FLOOR_CHOICES = {"related_window": {"around_trigger", "same_fiscal_year", None},
                 "min_assessment": {"excellent", "good", "pass", "fail", None},
                 "scale_condition": {"above", "below", None}}
# The policy tables the floor reads or that carry no payment rule; a clause named in another one
# (a new kind of catalog fact) is reported as not covered. Shared caps: per firm and year only.
FLOOR_POLICY_TABLES = {"clauses", "documents", "clause_actions", "clause_holds_any", "annual_cap_groups", "budgets",
                       "unautomated_sentences"}
FLOOR_CAP_PER = {"firm_year"}


FLOOR_CLAUSE_TYPES = {
    "trigger_level": "varchar", "trigger_program": "varchar", "first_time": "boolean", "scale_condition": "varchar",
    "industry_scope": "varchar", "min_tier": "varchar", "rank_at_most": "integer", "rank_above": "integer",
    "min_amount_yuan": "decimal(18, 2)", "within_years_after_scale_up": "integer", "min_assessment": "varchar",
    "amount_yuan": "decimal(18, 2)", "percent": "decimal(18, 4)", "percent_is_cap": "boolean",
    "min_base_yuan": "decimal(18, 2)", "related_event_type": "varchar", "related_program": "varchar",
    "related_window": "varchar", "min_growth_percent": "decimal(18, 4)", "weight_revenue": "decimal(18, 4)",
    "weight_profit": "decimal(18, 4)", "weight_wages": "decimal(18, 4)", "min_contribution_yuan": "decimal(18, 2)",
    "stock_unit_yuan": "decimal(18, 2)", "stock_unit_award_yuan": "decimal(18, 2)",
    "increase_unit_yuan": "decimal(18, 2)", "increase_unit_award_yuan": "decimal(18, 2)",
    "cap_yuan": "decimal(18, 2)", "annual_cap_yuan": "decimal(18, 2)", "stacking_group": "varchar",
    "budget_group": "varchar", "repeatable": "boolean",
}


def floor_clauses_view(con: duckdb.DuckDBPyConnection) -> None:
    """temp view floor_clauses: policy.clauses with the columns the floor reads; a column the catalog
    no longer has reads as null (the clauses that relied on it show up as not covered or disagreeing)."""
    present = {c for (c,) in con.execute(
        "select column_name from information_schema.columns where table_schema = 'policy' "
        "and table_name = 'clauses'").fetchall()}
    select = [name if name in present else f"cast(null as {FLOOR_CLAUSE_TYPES.get(name, 'varchar')}) as {name}"
              for name in sorted(FLOOR_CLAUSE_COLUMNS)]
    con.execute(f"create or replace temp view floor_clauses as select {', '.join(select)} "  # noqa: S608
                "from policy.clauses")


def _clauses_in_other_policy_tables(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """clause_id -> the policy tables outside FLOOR_POLICY_TABLES that name it (a feature the floor
    does not read), and the shared caps counted per anything but firm and year."""
    found: dict[str, list[str]] = {}
    tables = [t for (t,) in con.execute(
        "select distinct table_name from information_schema.columns where table_schema = 'policy' "
        "and column_name = 'clause_id'").fetchall() if t not in FLOOR_POLICY_TABLES]
    for table in sorted(tables):
        for (clause,) in con.execute(f"select distinct clause_id from policy.{table}").fetchall():  # noqa: S608
            found.setdefault(clause, []).append(f"policy.{table}")
    per = ", ".join(f"'{p}'" for p in sorted(FLOOR_CAP_PER))
    for clause, cap_per in con.execute(
            f"select clause_id, per from policy.annual_cap_groups where per not in ({per})").fetchall():  # noqa: S608
        found.setdefault(clause, []).append(f"annual_cap_groups per={cap_per}")
    return found


def uncovered_features(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """clause_id -> why the floor does not cover it (catalog features it does not implement)."""
    cursor = con.execute("select * from policy.clauses")
    names = [d[0] for d in cursor.description]
    clauses = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    elsewhere = _clauses_in_other_policy_tables(con)
    why: dict[str, str] = {}
    for clause in clauses:
        used = [n for n in names if n not in FLOOR_CLAUSE_COLUMNS and clause[n] not in (None, False)]
        if clause["amount_rule"] not in FLOOR_AMOUNT_RULES:
            used.insert(0, f"amount_rule={clause['amount_rule']}")
        if clause.get("repeat_per") not in FLOOR_REPEAT_PER:
            used.append(f"repeat_per={clause.get('repeat_per')}")
        used += [f"{n}={clause.get(n)}" for n, allowed in FLOOR_CHOICES.items() if clause.get(n) not in allowed]
        used += elsewhere.get(clause["clause_id"], [])
        if used:
            why[clause["clause_id"]] = "uses " + ", ".join(used)
    for clause in clauses:
        group = clause["stacking_group"]
        partners = [c["clause_id"] for c in clauses if group and c["stacking_group"] == group and c["clause_id"] in why
                    and c["clause_id"] != clause["clause_id"]]
        if partners and clause["clause_id"] not in why:
            why[clause["clause_id"]] = f"stacks with uncovered {', '.join(partners)}"
    return why


def step_floor_touched(db: Path, as_of: dt.date, night_file: Path) -> dict[str, Any]:
    """The floor restricted to the firms the night's file touched: what an incremental night must
    recompute at least (every condition and amount is per firm), timed."""
    import hashlib

    load_id = "events:" + hashlib.sha256(night_file.read_bytes()).hexdigest()[:20]
    with duckdb.connect(str(db), read_only=True) as con:
        floor_clauses_view(con)
        con.execute("set variable as_of = ?", [as_of])
        con.execute("set variable touched_load = ?", [load_id])
        started = time.perf_counter()
        rows = con.execute(FLOOR_SQL.read_text(encoding="utf-8")).fetchall()
        seconds = time.perf_counter() - started
        firms = con.execute("select count(distinct uscc) from raw.events where load_id = ?", [load_id]).fetchone()[0]
    return {"seconds": seconds, "load_id": load_id, "touched_firms": firms,
            "payable_count": sum(r[3] for r in rows), "payable_total": _jsonable(sum(r[4] for r in rows))}


def step_floor(db: Path, as_of: dt.date) -> dict[str, Any]:
    """The floor query (bench/floor.sql), then the same totals read from the models, compared."""
    with duckdb.connect(str(db), read_only=True) as con:
        uncovered = uncovered_features(con)
        floor_clauses_view(con)
        con.execute("set variable as_of = ?", [as_of])
        started = time.perf_counter()
        floor_rows = con.execute(FLOOR_SQL.read_text(encoding="utf-8")).fetchall()
        seconds = time.perf_counter() - started
        models = model_totals(con)
        built_for = [d for (d,) in con.execute("select as_of_date from marts.build_info").fetchall()]
    floor = {clause: {"rule": rule, "covered": covered and clause not in uncovered, "count": count, "total": total}
             for clause, rule, covered, count, total in floor_rows}
    clauses = []
    for clause in sorted(set(floor) | set(models)):
        f, m = floor.get(clause), models.get(clause, {"count": 0, "total": Decimal(0)})
        clauses.append({
            "clause_id": clause, "amount_rule": f["rule"] if f else None, "covered": bool(f and f["covered"]),
            "floor_count": f["count"] if f else None, "floor_total": _jsonable(f["total"]) if f else None,
            "model_count": m["count"], "model_total": _jsonable(m["total"] or Decimal(0)),
            "agree": bool(f) and f["count"] == m["count"] and f["total"] == (m["total"] or 0),
            "why_not_covered": uncovered.get(clause),
        })
    covered = [c for c in clauses if c["covered"]]
    floor_total = sum((Decimal(c["floor_total"]) for c in covered), Decimal(0))
    model_total_covered = sum((Decimal(c["model_total"]) for c in covered), Decimal(0))
    model_total = sum((Decimal(c["model_total"]) for c in clauses), Decimal(0))
    return {
        "seconds": seconds, "as_of": as_of.isoformat(), "models_built_for": [_jsonable(d) for d in built_for],
        "floor_total": _jsonable(floor_total), "model_total_covered": _jsonable(model_total_covered),
        "model_total": _jsonable(model_total), "totals_agree": floor_total == model_total_covered,
        "all_clauses_agree": all(c["agree"] for c in clauses),
        "not_covered_why": {c["clause_id"]: c["why_not_covered"] for c in clauses if not c["covered"]},
        "not_covered": [c["clause_id"] for c in clauses if not c["covered"]],
        "disagreements": [c for c in clauses if not c["agree"] and c["covered"]],
        "differences_outside_floor": [c for c in clauses if not c["agree"] and not c["covered"]],
        "clauses": clauses,
    }


def _build(db: Path, as_of: dt.date, models_only: bool) -> None:
    """`dbt build` as the night runs it (full or incremental, as registry.models.builds plans it);
    `models_only` (smoke runs) is `dbt run`: same models, no data tests."""
    from registry.pipeline import nightly

    nightly.build_models(as_of, db, data_tests=not models_only)


def dbt_node_timings(db: Path) -> dict[str, Any]:
    """Per-node execution times of the last dbt invocation (its run_results.json), slowest first."""
    path = db.parent / "dbt_target" / "run_results.json"
    if not path.exists():
        return {}
    run = json.loads(path.read_text(encoding="utf-8"))
    nodes = sorted(((r["unique_id"].split(".", 2)[-1], round(r["execution_time"], 3), r["status"])
                    for r in run["results"]), key=lambda n: -n[1])
    return {"dbt_elapsed_s": round(run["elapsed_time"], 2), "node_count": len(nodes),
            "node_seconds_total": round(sum(n[1] for n in nodes), 2),
            "test_seconds_total": round(sum(n[1] for n in nodes if n[0].count(".") or n[2] in ("pass", "fail")), 2),
            "slowest_nodes": nodes[:15]}


def step_nightly(db: Path, as_of: dt.date, models_only: bool = False) -> dict[str, Any]:
    """The real night: load the catalog, dbt build for the date, publish the list (timed apart)."""
    from registry.pipeline import nightly

    timings: dict[str, float] = {}
    started = time.perf_counter()
    nightly.load_rules(db)
    timings["catalog"] = time.perf_counter() - started
    mark = time.perf_counter()
    _build(db, as_of, models_only)
    timings["dbt_build"] = time.perf_counter() - mark
    mark = time.perf_counter()
    marks: list[tuple[float, str]] = []
    published = nightly.publish_list(as_of, db, on_step=lambda text: marks.append((time.perf_counter(), text)))
    timings["publish"] = time.perf_counter() - mark
    ends = [m for m, _ in marks[1:]] + [mark + timings["publish"]]
    # publish_list's own steps (ledger and files; snapshot and Parquet), their paths left out
    publish_steps = {text.split(" to /")[0]: round(end - at, 3) for (at, text), end in zip(marks, ends, strict=True)}
    return {"seconds": time.perf_counter() - started, "parts": timings, "publish_steps": publish_steps,
            "lines": len(published.lines), "list_total": _jsonable(published.total), "dbt": dbt_node_timings(db)}


def step_incremental(file: Path, db: Path, as_of: dt.date, models_only: bool = False) -> dict[str, Any]:
    """An incremental night: land the night's new events (real ingest), then the night itself.
    Smoke runs (`models_only`) land them with the prototype instead: no second Great Expectations
    start-up (~8 s), the real path having run once already in the same benchmark."""
    if models_only:
        from bench.fast_ingest import fast_ingest_events

        ingested = fast_ingest_events(file, db, run_gx="sql")
    else:
        ingested = step_ingest([("events", file)], db)
    night = step_nightly(db, as_of, models_only)
    return {**night, "seconds": ingested["seconds"] + night["seconds"],
            "parts": {"ingest": ingested["seconds"], **night["parts"]}, "ingest": ingested}


def step_dbt_build(db: Path, as_of: dt.date, models_only: bool = False) -> dict[str, Any]:
    """A `dbt build` for the date with nothing to do, right after the night's build: incremental,
    nothing changed since the night (no new load, same date), so no firm to recompute. The registry's
    own build_models would not start dbt at all for it; `force` makes it plan and run the build the
    same way as a night (the plan in ledger.model_build_plan, dbt in this process)."""
    from registry.pipeline import nightly

    started = time.perf_counter()
    nightly.build_models(as_of, db, data_tests=not models_only, force=True)
    return {"seconds": time.perf_counter() - started, "dbt": dbt_node_timings(db)}


def step_night_again(db: Path, as_of: dt.date) -> dict[str, Any]:
    """The operator's do-nothing night: `registry nightly` for the date just published, nothing new
    since (what the nightly DAG does when it is triggered twice). The registry sees that the list is
    published and the models stand for these inputs, and starts neither dbt nor a publish."""
    from registry.pipeline import nightly

    started = time.perf_counter()
    published = nightly.run_nightly(as_of, db)
    return {"seconds": time.perf_counter() - started, "lines": len(published.lines)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.steps")
    parser.add_argument("step", choices=["generate", "ingest", "bare-read", "fast-ingest", "nightly", "dbt-build",
                                         "floor", "compare-ingest", "incremental", "floor-touched", "night-again"])
    parser.add_argument("args", nargs="*")
    parser.add_argument("--result", type=Path, required=True)
    parser.add_argument("--models-only", action="store_true", help="dbt run instead of dbt build (smoke runs)")
    ns = parser.parse_args(argv)
    a = ns.args
    if ns.step == "generate":
        result = step_generate(int(a[0]), int(a[1]), int(a[2]), Path(a[3]))
    elif ns.step == "ingest":
        result = step_ingest([(a[i], Path(a[i + 1])) for i in range(0, len(a) - 1, 2)], Path(a[-1]))
    elif ns.step == "incremental":
        result = step_incremental(Path(a[0]), Path(a[1]), dt.date.fromisoformat(a[2]), ns.models_only)
    elif ns.step == "bare-read":
        result = step_bare_read(Path(a[0]), Path(a[1]))
    elif ns.step == "fast-ingest":
        mode = a[2] if len(a) > 2 else "gx"
        result = step_fast_ingest(Path(a[0]), Path(a[1]), run_gx={"no-gx": False, "sql": "sql"}.get(mode, True))
    elif ns.step == "nightly":
        result = step_nightly(Path(a[0]), dt.date.fromisoformat(a[1]), ns.models_only)
    elif ns.step == "night-again":
        result = step_night_again(Path(a[0]), dt.date.fromisoformat(a[1]))
    elif ns.step == "dbt-build":
        result = step_dbt_build(Path(a[0]), dt.date.fromisoformat(a[1]), ns.models_only)
    elif ns.step == "floor-touched":
        result = step_floor_touched(Path(a[0]), dt.date.fromisoformat(a[1]), Path(a[2]))
    elif ns.step == "compare-ingest":
        result = step_compare_ingest(Path(a[0]), Path(a[1]))
    else:
        result = step_floor(Path(a[0]), dt.date.fromisoformat(a[1]))
    ns.result.write_text(json.dumps(result, ensure_ascii=False, indent=2, default=_jsonable), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
