"""Experiment: how close one fused statement gets to DuckDB's bare read (bench/results/fast_ingest_prototype.md).

    .venv/bin/python -m bench.fast_ingest_fused EVENTS.csv [--no-key] [--no-edge]

The accepted rows of the file go from `read_csv` to a table in one `create table ... as select`:
the prototype's SQL checks (bench/fast_ingest.py) and fact key as expressions, no primary key, no
temporary copies. The rejected rows, the suite, the anti-join against history and the lineage
columns are left out, so this is a lower bound for the prototype's approach, not an ingest.
`--no-key` leaves out the fact key and `--no-edge` the edge-white-space regex, to price them.
"""

# ruff: noqa: S608  -- SQL assembled from the contract's field names and the prototype's constants
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import duckdb

from bench import fast_ingest as fi
from registry.core.contracts import CONTRACTS


def fused(path: Path, *, key: bool = True, edge: bool = True) -> dict[str, float | int]:
    contract = CONTRACTS["events"]
    fields = [f.name for f in contract.fields]
    with tempfile.TemporaryDirectory() as tmp, duckdb.connect(str(Path(tmp) / "fused.duckdb")) as con:
        started = time.perf_counter()
        con.execute(f"create temp view src as select * from read_csv('{path}', header = true, all_varchar = true)")
        con.execute("create temp table uscc_checked as select v, " + fi.uscc_ok("v")
                    + " as ok from (select distinct uscc as v from src)")
        text_keys = [n for n in fi.TEXT_KEY_FIELDS if n in contract.key_fields]
        for n in text_keys:
            con.execute(f"create temp table esc_{n} as select v, {fi.JSON_ESCAPE} as e "
                        f"from (select distinct {n} as v from src where {n} is not null)")
        memo = time.perf_counter() - started
        checks = " and ".join(f"(s.{n} is null or coalesce(u.ok, false))" if n == "uscc" else
                              f"({n} is null or {fi.FIELD_SQL[n][0]})" for n in fields)
        if edge:
            joined = "concat_ws(chr(1), " + ", ".join(fields) + ")"
            checks += f" and not regexp_matches({joined}, '(^|\\x01){fi.EDGE_SPACE}|{fi.EDGE_SPACE}(\\x01|$)')"
        required = " and ".join(f"{n} is not null" for n in contract.required_names)
        parts = [f"coalesce('\"' || {f'esc_{n}.e' if n in text_keys else fi.FIELD_SQL[n][2]} || '\"', 'null')"
                 for n in contract.key_fields]
        key_sql = "substr(sha256('[' || " + " || ', ' || ".join(parts) + " || ']'), 1, 32) as event_key, "
        key_sql = key_sql if key else ""
        joins = " ".join(f"left join esc_{n} on esc_{n}.v = s.{n}" for n in text_keys)
        con.execute(f"""
            create table landed as
            select {key_sql}{', '.join(f'{fi.FIELD_SQL[n][1]} as {n}' for n in fields)}
            from src as s left join uscc_checked as u on u.v = s.uscc {joins}
            where coalesce({required} and {checks} and {fi._row_rules_ok(fields)}, false)""")
        seconds = time.perf_counter() - started
        rows = con.execute("select count(*) from landed").fetchone()[0]
    return {"seconds": round(seconds, 2), "memo_seconds": round(memo, 2), "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--no-key", action="store_true")
    parser.add_argument("--no-edge", action="store_true")
    args = parser.parse_args()
    print(fused(args.file.resolve(), key=not args.no_key, edge=not args.no_edge))


if __name__ == "__main__":
    main()
