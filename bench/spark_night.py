"""The same full night on DuckDB and on Spark (local[2]), over the same synthetic data.

    .venv/bin/python -m bench.spark_night --size smoke            # a few thousand events, ~3 min
    .venv/bin/python -m bench.spark_night --size 100k             # 100k firms / 500k events

Generates the data (bench/synthetic.py), lands the events with the vectorised prototype
(bench/fast_ingest.py: the same facts as the real path, much faster) and the firms with the real
path, copies the database, then runs the night's catalog + build + publish on each engine and
prints where the time went and whether the two lists are identical. Results are printed as JSON
(docs/scaling.md quotes them); nothing is written outside --workdir.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import duckdb

from bench.run import AS_OF, SIZES
from registry.core import settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="smoke")
    parser.add_argument("--workdir", type=Path, default=None, help="default var/bench/spark-<size>")
    args = parser.parse_args(argv)
    settings.quiet_third_party()
    from bench.fast_ingest import fast_ingest_events
    from bench.synthetic import generate
    from registry.ingest.land import ingest_file
    from registry.models import spark
    from registry.pipeline import nightly

    work = (args.workdir or settings.REPO_ROOT / "var" / "bench" / f"spark-{args.size}").resolve()
    shutil.rmtree(work, ignore_errors=True)
    data = work / "data"
    params = SIZES[args.size]
    out: dict = {"size": args.size, "params": params, "as_of": AS_OF.isoformat()}
    started = time.perf_counter()
    generate(data, params["firms"], params["events"], night_events=params["night_events"])
    out["generate_s"] = round(time.perf_counter() - started, 1)
    base = work / "base" / "registry.duckdb"
    base.parent.mkdir(parents=True)
    started = time.perf_counter()
    fast_ingest_events(data / "events.csv", base, run_gx="sql")
    ingest_file("firms", data / "firms.csv", base)
    out["ingest_s"] = round(time.perf_counter() - started, 1)
    dbs = {}
    for engine in settings.ENGINES:
        dbs[engine] = work / engine / "registry.duckdb"
        dbs[engine].parent.mkdir()
        shutil.copyfile(base, dbs[engine])
    for engine, db in dbs.items():
        parts: dict[str, float] = {}
        mark = time.perf_counter()
        nightly.load_rules(db)
        parts["catalog"] = time.perf_counter() - mark
        mark = time.perf_counter()
        nightly.build_models(AS_OF, db, engine=engine)
        parts["build"] = time.perf_counter() - mark
        mark = time.perf_counter()
        published = nightly.publish_list(AS_OF, db)
        parts["publish"] = time.perf_counter() - mark
        out[engine] = {"parts_s": {k: round(v, 1) for k, v in parts.items()}, "lines": len(published.lines),
                       "total": f"{published.total:.2f}"}
        if engine == settings.SPARK:
            timings = spark.LAST
            out[engine]["build_split_s"] = {
                "lake_sync": round(timings.lake_sync, 1), "spark_start": round(timings.session_start, 1),
                "dbt_on_spark": round(timings.dbt, 1), "read_back": round(timings.read_back, 1),
                "duckdb_audit_views": round(timings.duckdb_views, 1),
                "model_nodes_s": round(sum(v for k, v in timings.nodes.items() if k.startswith("model.")), 1),
                "test_nodes_s": round(sum(v for k, v in timings.nodes.items() if k.startswith("test.")), 1)}
            out[engine]["slowest_nodes"] = [(k.split(".", 2)[-1], round(v, 1)) for k, v in
                                            sorted(timings.nodes.items(), key=lambda kv: -kv[1])[:8]]
    query = ("select entitlement_id, uscc, clause_id, status, entitled_amount, payable_amount "
             "from marts.fct_entitlements order by entitlement_id")
    rows = {}
    for engine, db in dbs.items():
        with duckdb.connect(str(db), read_only=True) as con:
            rows[engine] = con.execute(query).fetchall()
    out["fct_entitlements_rows"] = len(rows[settings.DUCKDB])
    out["fct_entitlements_identical"] = rows[settings.DUCKDB] == rows[settings.SPARK]
    lists = {engine: sorted(p.read_bytes() for p in (db.parent / "lists").glob("*.csv")) for engine, db in dbs.items()}
    out["list_files_identical"] = lists[settings.DUCKDB] == lists[settings.SPARK]
    print(json.dumps(out, indent=1, ensure_ascii=False))
    return 0 if out["fct_entitlements_identical"] and out["list_files_identical"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
