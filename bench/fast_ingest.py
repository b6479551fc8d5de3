"""Prototype: a vectorised ingest of the `events` contract (DuckDB read_csv all_varchar + SQL checks).

Not the registry's ingest (registry/ingest.py is): a measured proposal for it, see docs/scaling.md.
It lands the same rows with the same keys, lineage, quarantine and load record:

* DuckDB reads the file as text (all_varchar) into a table: row_number = rowid + 2 (the line
  number, for files without quoted line breaks);
* a fast path in SQL accepts a row only when every cell is already in its strict canonical form
  (no edge white space, canonical USCC with both check characters right, known vocabulary,
  YYYY-MM-DD calendar dates, plain decimals with at most two places, row rules by event kind);
  the SQL accepts a subset of what the Python parsers accept, and gives the same typed values;
* every other row (full-width USCCs, padded cells, bad values...) goes through the Python
  parser of registry.ingest.land (`_parse_row`), unchanged: same normalisation, same quarantine
  reasons. Bad rows are rare, so Python sees few rows;
* the fact key is computed in SQL exactly as registry.ingest.fact_key does (sha256 of
  json.dumps of the key fields, ASCII-escaped), escaping only the distinct text values;
* duplicates: first occurrence in the file wins, then an anti-join against raw.events;
* Great Expectations runs on the same suite, over a pandas frame that DuckDB builds (timed apart).
"""

# ruff: noqa: S608  -- SQL assembled from the contract's own field names and module constants
from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from pathlib import Path
from typing import Any

from registry.core import vocabulary
from registry.core.contracts import CONTRACTS, Contract, FieldError
from registry.core.uscc import CHARSET
from registry.ingest.land import fact_key
from registry.store import db as registry_db
from registry.store import schema as store_schema

EDGE_SPACE = r"[\s\pZ\x{85}\x{1c}-\x{1f}\x{feff}]"
BODY36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
USCC_RE = "[0-9A-HJ-NP-RTUWXY]{2}[0-9]{6}[0-9A-HJ-NP-RTUWXY]{8}[0-9X][0-9A-HJ-NP-RTUWXY]"


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _in(values: Any) -> str:
    return "(" + ", ".join(_lit(v) for v in sorted(values)) + ")"


def uscc_ok(col: str) -> str:
    """SQL: `col` is a canonical USCC with valid GB 11714 (17th) and GB 32100 (18th) check characters."""
    c17_sum = " + ".join(f"(instr('{BODY36}', substr({col}, {9 + i}, 1)) - 1) * {w}"
                         for i, w in enumerate((3, 7, 9, 10, 5, 8, 4, 2)))
    c17 = f"(11 - ({c17_sum}) % 11)"
    c17_char = f"(case {c17} when 10 then 'X' when 11 then '0' else cast({c17} as varchar) end)"
    c18_sum = " + ".join(f"(instr('{CHARSET}', substr({col}, {i + 1}, 1)) - 1) * {pow(3, i, 31)}" for i in range(17))
    c18_char = f"substr('{CHARSET}', (31 - ({c18_sum}) % 31) % 31 + 1, 1)"
    return (f"(regexp_full_match({col}, '{USCC_RE}') and substr({col}, 17, 1) = {c17_char} "
            f"and substr({col}, 18, 1) = {c18_char})")


def _date_ok(col: str) -> str:
    return (f"(regexp_full_match({col}, '\\d{{4}}-\\d{{2}}-\\d{{2}}') and substr({col}, 1, 4) <> '0000' "
            f"and try_cast({col} as date) is not null)")


def _yuan_ok(col: str, signed: bool) -> str:
    sign = "-?" if signed else ""
    return (f"(regexp_full_match({col}, '{sign}\\d+(\\.\\d{{1,2}})?') "
            f"and not regexp_full_match({col}, '-0+(\\.0*)?') and try_cast({col} as decimal(18, 2)) is not null)")


# field name -> (fast-path SQL check of the raw text, SQL of the typed value, SQL of str(parsed value))
FIELD_SQL = {
    "uscc": (uscc_ok("uscc"), "uscc", "uscc"),
    "related_uscc": (uscc_ok("related_uscc"), "related_uscc", "related_uscc"),
    "event_type": (f"event_type in {_in(vocabulary.EVENT_TYPE_NAMES)}", "event_type", "event_type"),
    "action": (f"action in {_in(vocabulary.ACTIONS)}", "action", "action"),
    "level": (f"level in {_in(vocabulary.LEVELS)}", "level", "level"),
    "effective_date": (_date_ok("effective_date"), "cast(effective_date as date)", "effective_date"),
    "published_date": (_date_ok("published_date"), "cast(published_date as date)", "published_date"),
    "amount": (_yuan_ok("amount", False), "cast(amount as decimal(18, 2))",
               "cast(cast(amount as decimal(18, 2)) as varchar)"),
    "wages": (_yuan_ok("wages", False), "cast(wages as decimal(18, 2))",
              "cast(cast(wages as decimal(18, 2)) as varchar)"),
    "revenue": (_yuan_ok("revenue", True), "cast(revenue as decimal(18, 2))",
                "cast(cast(revenue as decimal(18, 2)) as varchar)"),
    "profit": (_yuan_ok("profit", True), "cast(profit as decimal(18, 2))",
               "cast(cast(profit as decimal(18, 2)) as varchar)"),
    "fiscal_year": ("regexp_full_match(fiscal_year, '(19|20)\\d{2}')", "cast(fiscal_year as integer)", "fiscal_year"),
    "rank": ("regexp_full_match(rank, '[1-9]\\d{0,5}')", "cast(rank as integer)", "rank"),
    "firm_name": ("true", "firm_name", "firm_name"),
    "document_ref": ("true", "document_ref", "document_ref"),
    "program": ("true", "program", "program"),
}
TEXT_KEY_FIELDS = ("document_ref", "program", "firm_name")  # may hold non-ASCII: JSON-escaped in SQL

JSON_ESCAPE = r"""array_to_string(list_transform(string_split(v, ''), lambda c: case
    when c = '"' then '\"' when c = '\' then '\\'
    when unicode(c) < 32 then case unicode(c) when 10 then '\n' when 13 then '\r' when 9 then '\t'
        when 8 then '\b' when 12 then '\f' else '\u' || lpad(lower(hex(unicode(c))), 4, '0') end
    when unicode(c) < 128 then c
    when unicode(c) < 65536 then '\u' || lpad(lower(hex(unicode(c))), 4, '0')
    else '\u' || lower(hex(55296 + ((unicode(c) - 65536) >> 10)))
        || '\u' || lower(hex(56320 + ((unicode(c) - 65536) & 1023))) end), '')"""


def _row_rules_ok(fields: list[str]) -> str:
    """SQL of the contract's cross-field rules (registry.core.contracts._event_rules), by event kind."""
    kinds = vocabulary.EVENT_KINDS

    def of(*wanted: str) -> str:
        return _in([t for t, k in kinds.items() if k in wanted] or ["-"])

    rules = [f"(event_type not in {of('grant', 'measure')} or amount is not null)",
             f"(event_type not in {of('report', 'measure')} or fiscal_year is not null)"]
    if "related_uscc" in fields:
        rules.append(f"(event_type not in {of('relation')} or related_uscc is not null)")
    return " and ".join(rules)


def _clean(cell: str | None) -> str | None:
    """As registry.ingest.land cleans a cell: white space, ideographic space, NBSP and BOM trimmed."""
    if cell is None:
        return None
    stripped = cell.strip().strip("\u3000\u00a0\ufeff").strip()
    return stripped or None


def parse_row(contract: Contract, raw: dict[str, str | None]) -> tuple[dict[str, Any] | None, list[tuple]]:
    """The contract's own parsers and row rules over one row: (parsed, []) or (None, [(field, value, reason)])."""
    parsed: dict[str, Any] = {}
    problems: list[tuple] = []
    for fld in contract.fields:
        value = _clean(raw.get(fld.name))
        if value is None:
            if fld.required:
                problems.append((fld.name, None, "missing required value"))
            parsed[fld.name] = None
            continue
        try:
            parsed[fld.name] = fld.parse(value)
        except FieldError as err:
            problems.append((fld.name, value, str(err)))
    if not problems and contract.row_rules is not None:
        problems = [(f, None, reason) for f, reason in contract.row_rules(parsed)]
    return (None if problems else parsed), problems


def sql_suite(con: Any, suite: str, table: str, columns: set[str]) -> tuple[bool, str, str]:
    """The Great Expectations suite sources/<suite>/expectations.json evaluated as one DuckDB aggregate
    (the expectation types the suites use; map expectations ignore nulls, as GX does)."""
    from registry.ingest.validation import VOCABULARY_REFERENCES, load_suite

    spec = load_suite(suite)
    checks: list[tuple[str, str | None, str]] = []  # (label, column, SQL counting unexpected rows)
    for entry in spec.expectations:
        kw = {k: (sorted(getattr(vocabulary, VOCABULARY_REFERENCES[v.split(".", 1)[1]]))
                  if isinstance(v, str) and v.startswith("@vocabulary.") else v) for k, v in entry.kwargs.items()}
        col = kw.get("column")
        if col is not None and col not in columns:
            continue  # the pandas path skips (or fails) absent columns in the same way
        if entry.type == "expect_column_values_to_not_be_null":
            checks.append((entry.type, col, f"count(*) filter (where {col} is null)"))
        elif entry.type == "expect_column_values_to_match_regex":
            checks.append((entry.type, col, f"count(*) filter (where not regexp_matches({col}, {_lit(kw['regex'])}))"))
        elif entry.type == "expect_column_values_to_be_in_set":
            checks.append((entry.type, col, f"count(*) filter (where {col} not in {_in(kw['value_set'])})"))
        elif entry.type == "expect_column_values_to_be_unique":
            checks.append((entry.type, col, f"count({col}) - count(distinct {col})"))
        elif entry.type == "expect_table_row_count_to_be_between":
            least = int(kw.get("min_value") or 0)
            checks.append((entry.type, None, f"case when count(*) >= {least} then 0 else 1 end"))
        elif entry.type == "expect_table_columns_to_match_set":
            missing = [c for c in kw["column_set"] if c not in columns]
            checks.append((entry.type, None, str(len(missing))))
        else:  # pragma: no cover - a suite grew a type this prototype does not translate
            raise ValueError(f"no SQL translation for {entry.type}")
    counts = con.execute("select " + ", ".join(sql for _, _, sql in checks) + f" from {table}").fetchone()
    outcomes = [{"expectation": label, "column": col, "unexpected_count": int(n), "success": n == 0}
                for (label, col, _), n in zip(checks, counts, strict=True)]
    failed = [o for o in outcomes if not o["success"]]
    summary = f"SQL suite {suite}: {len(outcomes) - len(failed)}/{len(outcomes)} passed" + (
        "; failed: " + "; ".join(f"{o['expectation']} {o['column']} ({o['unexpected_count']} rows)" for o in failed)
        if failed else "")
    return not failed, summary, json.dumps({"suite": suite, "engine": "duckdb-sql", "outcomes": outcomes})


def fast_ingest_events(path: Path, db: Path, *, run_gx: bool | str = True) -> dict[str, Any]:
    """run_gx: True/"pandas" = Great Expectations over a pandas frame; "sql" = the same suite in SQL."""
    contract = CONTRACTS["events"]
    path = Path(path)
    timings: dict[str, float] = {}
    started = mark = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        timings[name] = round(now - mark, 3)
        mark = now

    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    sha = digest.hexdigest()
    lap("sha256")
    with path.open(encoding="utf-8-sig") as handle:
        header = [h.strip() for h in handle.readline().rstrip("\r\n").split(",")]
    missing = [n for n in contract.required_names if n not in header]
    if missing:
        raise ValueError(f"{path}: header lacks required column(s) {', '.join(missing)}")
    fields = [f.name for f in contract.fields]
    present = {n for n in fields if n in header}
    load_id = f"events:{sha[:20]}"
    ingested_at = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    report: dict[str, Any] = {"read": 0, "landed": 0, "quarantined": 0, "duplicate": 0, "slow_path_rows": 0}

    with registry_db.connect(db, create=True) as con:
        store_schema.ensure(con)
        if con.execute("select 1 from raw.loads where load_id = ?", [load_id]).fetchone():
            return {**report, "already_loaded": True, "seconds": time.perf_counter() - started}
        con.execute("create temp table src as select * from read_csv(?, header = true, all_varchar = true, "
                    "quote = '\"', escape = '\"')", [str(path)])
        lap("read_csv")
        cols = ", ".join(f"s.{n}" if n in present else f"null::varchar as {n}" for n in fields)
        # one regex per row for edge white space in any cell (cells joined by U+0001)
        joined = "concat_ws(chr(1), " + ", ".join(n for n in fields if n in present) + ")"
        edge = f"not regexp_matches({joined}, '(^|\x01){EDGE_SPACE}|{EDGE_SPACE}(\x01|$)')"
        required = " and ".join(f"{n} is not null" for n in contract.required_names)
        # USCC check characters once per distinct code (a firm has many events)
        usccs = [n for n in ("uscc", "related_uscc") if n in present]
        con.execute("create temp table uscc_checked as select v, " + uscc_ok("v") + " as ok from ("
                    + " union ".join(f"select distinct {n} as v from src" for n in usccs) + ") where v is not null")
        joins = " ".join(f"left join uscc_checked as u_{n} on u_{n}.v = s.{n}" for n in usccs)
        checks = " and ".join(
            f"(s.{n} is null or coalesce(u_{n}.ok, false))" if n in usccs else
            f"({n} is null or {FIELD_SQL[n][0]})" if n in FIELD_SQL else f"{n} is null"
            for n in fields if n in present)
        con.execute(f"""
            create temp table checked as
            select s.rowid + 2 as row_number, {cols},
                   coalesce({edge} and {required} and {checks} and {_row_rules_ok(fields)}, false) as ok
            from src as s {joins}""")
        report["read"] = con.execute("select count(*) from checked").fetchone()[0]
        lap("sql_checks")

        # slow path: the contract's own Python parsers, for the rows SQL did not accept
        slow = con.execute(f"select row_number, {', '.join(fields)} from checked where not ok").fetchall()
        report["slow_path_rows"] = len(slow)
        problems: list[tuple] = []  # (row_number, field, value, reason, raw row)
        slow_rows: list[list[Any]] = []
        for row in slow:
            raw = dict(zip(fields, row[1:], strict=True))
            parsed, row_problems = parse_row(contract, raw)
            if parsed is None:
                raw_row = {k: v for k, v in raw.items() if v is not None}
                problems.extend((row[0], f, v, reason, raw_row) for f, v, reason in row_problems)
                continue
            slow_rows.append([row[0], fact_key(contract, parsed),
                              *(None if parsed[n] is None else str(parsed[n]) for n in fields)])
        con.execute(f"create temp table slow_ok (row_number integer, event_key varchar, "
                    f"{', '.join(f'{n} varchar' for n in fields)})")
        if slow_rows:
            con.executemany(f"insert into slow_ok values ({', '.join('?' * (len(fields) + 2))})", slow_rows)
        lap("slow_path")

        # the fact key, as registry.ingest.fact_key computes it
        escaped = []
        for n in TEXT_KEY_FIELDS:
            if n in contract.key_fields:
                con.execute(f"create temp table esc_{n} as select v, {JSON_ESCAPE} as e "
                            f"from (select distinct {n} as v from checked where ok and {n} is not null)")
                escaped.append(n)
        parts = []
        for n in contract.key_fields:
            text = f"esc_{n}.e" if n in escaped else FIELD_SQL[n][2]
            parts.append(f"coalesce('\"' || {text} || '\"', 'null')")
        joins = " ".join(f"left join esc_{n} on esc_{n}.v = c.{n}" for n in escaped)
        key_sql = "substr(sha256('[' || " + " || ', ' || ".join(parts) + " || ']'), 1, 32)"
        typed = ", ".join(f"{FIELD_SQL[n][1]} as {n}" for n in fields)
        con.execute(f"""
            create temp table candidates as
            select c.row_number, {key_sql} as event_key, {', '.join(f'c.{n}' for n in fields)}
            from checked as c {joins} where c.ok
            union all
            select * from slow_ok""")
        in_file_dups = con.execute("select count(*) - count(distinct event_key) from candidates").fetchone()[0]
        firsts = ("candidates" if in_file_dups == 0 else
                  "(select * from (select *, row_number() over (partition by event_key order by row_number) as nth "
                  "from candidates) where nth = 1)")
        # facts landed before: an anti-join on the key column (measured faster than INSERT OR IGNORE's
        # per-row primary-key probes at these sizes)
        con.execute(f"create temp table landing as select row_number, event_key, {typed} from {firsts} as c "
                    "where not exists (select 1 from raw.events as e where e.event_key = c.event_key)")
        candidates = con.execute("select count(*) from candidates").fetchone()[0]
        report["landed"] = con.execute("select count(*) from landing").fetchone()[0]
        report["duplicate"] = candidates - report["landed"]
        report["quarantined"] = len({p[0] for p in problems})
        lap("keys_and_dedup")

        gx_success, gx_summary, gx_json = None, "GX not run (prototype option)", None
        if run_gx == "sql":
            gx_success, gx_summary, gx_json = sql_suite(con, "events", "checked", present)
            lap("suite_in_sql")
        elif run_gx:
            from registry.ingest.validation import validate_frame

            trim = "' ' || chr(9) || chr(10) || chr(13) || chr(12288) || chr(160) || chr(65279)"
            frame = con.execute("select " + ", ".join(f"nullif(trim({n}, {trim}), '') as {n}" for n in fields
                                                      if n in present) + " from checked").df()
            gx = validate_frame("events", frame)
            gx_success, gx_summary, gx_json = gx.success, gx.summary(), gx.to_json()
            lap("great_expectations")

        con.execute("begin transaction")
        try:
            con.execute("insert into raw.events by name select *, ? as source, ? as file_sha256, "
                        "? as ingested_at, ? as load_id from landing", ["events", sha, ingested_at, load_id])
            if problems:
                con.executemany(
                    "insert into raw.quarantine values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [[load_id, "events", path.name, sha, row, fld, value, reason,
                      json.dumps(raw_row, ensure_ascii=False), ingested_at]
                     for row, fld, value, reason, raw_row in problems])
            con.execute("insert into raw.loads (load_id, source, file_name, file_sha256, ingested_at, rows_read, "
                        "rows_landed, rows_quarantined, rows_duplicate, gx_success, gx_summary, gx_result) "
                        "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [load_id, "events", path.name, sha, ingested_at, report["read"], report["landed"],
                         report["quarantined"], report["duplicate"], gx_success, gx_summary, gx_json])
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise
        lap("insert")
    return {**report, "seconds": time.perf_counter() - started, "parts": timings,
            "seconds_without_gx": time.perf_counter() - started - timings.get("great_expectations", 0)}
