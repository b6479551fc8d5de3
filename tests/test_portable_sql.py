"""The dbt models stay portable: no DuckDB-only SQL outside places marked as adapter-specific.

The same dbt project has to move to a distributed engine (Spark/Databricks, Trino, Snowflake,
BigQuery) through its dbt adapter (docs/scaling.md); it does run on Spark (tests/test_spark.py, which
found the type-name and integer-division rules below). Models and singular data tests therefore
use standard SQL and dbt's
cross-database macros ({{ dbt.dateadd(...) }}, {{ dbt.datediff(...) }}, {{ dbt.hash(...) }},
{{ dbt.listagg(...) }}, {{ dbt.safe_cast(...) }}, {{ dbt.type_string() }} ...). DuckDB-only syntax
is allowed only

* in a model file whose first lines carry the marker comment ``-- adapter: duckdb``, or
* between ``-- adapter: duckdb`` and ``-- end adapter`` inside a model, or
* in macros (dbt_project/macros/ is the adapter layer; macros dispatch per adapter), which are
  not scanned.

Comments, Jinja comments/tags/expressions and string literals are blanked before scanning, so
prose and literals never trip the check; line numbers are kept.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from registry.core import settings

MODELS_DIR = settings.DBT_PROJECT_DIR / "models"
ADAPTER_MARK = re.compile(r"--\s*adapter:\s*duckdb\b", re.IGNORECASE)
END_MARK = re.compile(r"--\s*end\s+adapter\b", re.IGNORECASE)

# (pattern, what it is, what to write instead). Case-insensitive, on SQL with comments/strings blanked.
NON_PORTABLE: tuple[tuple[str, str, str], ...] = (
    (r"::", "`::` cast", "cast(x as type) or {{ dbt.safe_cast(...) }}"),
    (r"\bgroup\s+by\s+all\b", "GROUP BY ALL", "list the grouping columns"),
    (r"\border\s+by\s+all\b", "ORDER BY ALL", "list the ordering columns"),
    (r"\*\s*(exclude|replace)\s*\(", "SELECT * EXCLUDE/REPLACE", "list the columns"),
    (r"\bcolumns\s*\(", "COLUMNS(...) star expression", "list the columns"),
    (r"\bqualify\b", "QUALIFY", "filter a window in an outer query"),
    (r"\bunnest\s*\(", "unnest()", "a join to a model with one row per element"),
    (r"\b(list|array|struct|map)_[a-z_]+\s*\(", "list/array/struct/map function", "a join or a cross-db macro"),
    (r"\b(list_value|struct_pack|any_value|arg_max|arg_min|max_by|min_by|first|last|string_agg|"
     r"group_concat|histogram|count_if|bool_and|bool_or)\s*\(", "DuckDB aggregate",
     "min/max over a window, {{ dbt.listagg(...) }}, sum(case ...)"),
    (r"\b(read_csv|read_csv_auto|read_parquet|read_json|read_json_auto|glob|range|generate_series)\s*\(",
     "table function", "a dbt source or seed"),
    (r"\b(strftime|strptime|date_diff|datediff|date_add|dateadd|date_sub|datesub|date_trunc|date_part|"
     r"make_date|make_timestamp|epoch|epoch_ms|to_years|to_months|to_days|today|now|current_localtimestamp)\s*\(",
     "date function", "{{ dbt.dateadd }}, {{ dbt.datediff }}, {{ dbt.date_trunc }}, extract(... from ...)"),
    (r"\binterval\b", "INTERVAL literal", "{{ dbt.dateadd(...) }}"),
    (r"\b(try_cast|regexp_matches|regexp_full_match|regexp_extract|regexp_split_to_array|string_split|"
     r"str_split|starts_with|ends_with|prefix|suffix|contains|hash|md5|sha256|md5_number|split_part|"
     r"strip_accents|nfc_normalize|printf|format|if|iff|ifnull)\s*\(", "engine-specific function",
     "standard SQL (case, substring, position) or a dbt cross-db macro ({{ dbt.hash }}, {{ dbt.safe_cast }}, "
     "{{ dbt.split_part }}, {{ dbt.position }})"),
    (r"\[\s*\]", "array type `[]`", "a child model with one row per element"),
    (r"\{\s*'[^']*'\s*:", "struct literal", "columns"),
    (r"(=|,|\(|\bselect|\bin)\s*\[", "list literal", "a seed, a values list or in (...)"),
    (r"->>?", "JSON/lambda arrow", "a column"),
    (r"\b(pivot|unpivot|summarize|describe|pragma|attach|install|load)\b", "DuckDB statement", "plain SQL"),
    (r"\bilike\b|\bglob\b|\bsimilar\s+to\b", "ILIKE/GLOB", "lower(x) like ..."),
    (r"\bfrom\s+'[^']*'", "FROM a file path", "a dbt source"),
    # found by running the project on Spark (tests/test_spark.py)
    (r"\bas\s+(varchar|text|bpchar)\b(?!\s*\()", "type name without a length (Spark needs VARCHAR(n))",
     "{{ dbt.type_string() }}"),
    (r"\b(hugeint|uhugeint|ubigint|uinteger|usmallint|utinyint|blob|uuid)\b", "DuckDB-only type",
     "bigint, decimal(38, 0), {{ dbt.type_string() }}"),
    (r"//", "integer division `//`", "a dispatched macro (macros/prorata.sql) or floor(a / b) on integers"),
)


def _blank(match: re.Match[str]) -> str:
    return re.sub(r"[^\n]", " ", match.group(0))


def scannable(sql: str) -> str:
    """The SQL with Jinja comments, tags and expressions, SQL comments and string literals blanked
    (newlines kept, so line numbers stay right); adapter-marked regions blanked too."""
    lines = sql.split("\n")
    head = "\n".join(lines[:5])
    if ADAPTER_MARK.search(head) and not END_MARK.search(head):
        return re.sub(r"[^\n]", " ", sql)
    kept, inside = [], False
    for line in lines:
        if ADAPTER_MARK.search(line):
            inside = True
        if inside:
            kept.append("")
            if END_MARK.search(line):
                inside = False
            continue
        kept.append(line)
    text = "\n".join(kept)
    text = re.sub(r"\{#.*?#\}", _blank, text, flags=re.DOTALL)
    # Jinja expressions are dbt macros: their output is adapter-dispatched, so the call is portable.
    text = re.sub(r"\{\{.*?\}\}", lambda m: "x" + _blank(m)[1:], text, flags=re.DOTALL)
    text = re.sub(r"\{%.*?%\}", _blank, text, flags=re.DOTALL)
    text = re.sub(r"/\*.*?\*/", _blank, text, flags=re.DOTALL)
    text = re.sub(r"'(?:[^']|'')*'", lambda m: "'" + _blank(m)[1:-1] + "'", text)
    text = re.sub(r"--[^\n]*", _blank, text)
    return text


def offences(sql: str) -> list[tuple[int, str, str, str]]:
    """(line, offending text, what it is, what to write instead) for each non-portable construct."""
    text = scannable(sql)
    found = []
    for pattern, what, instead in NON_PORTABLE:
        for match in re.finditer(pattern, text, flags=re.IGNORECASE):
            line = text.count("\n", 0, match.start()) + 1
            found.append((line, sql.split("\n")[line - 1].strip(), what, instead))
    return sorted(found)


def model_files() -> list[Path]:
    """The models and the singular data tests (both run on every engine the project targets)."""
    return sorted(MODELS_DIR.rglob("*.sql")) + sorted((settings.DBT_PROJECT_DIR / "tests").glob("*.sql"))


def test_there_are_models_to_check() -> None:
    assert model_files(), f"no models under {MODELS_DIR}"


@pytest.mark.parametrize("path", model_files(), ids=lambda p: str(p.relative_to(settings.DBT_PROJECT_DIR)))
def test_model_has_no_duckdb_only_sql_outside_adapter_blocks(path: Path) -> None:
    found = offences(path.read_text(encoding="utf-8"))
    report = "\n".join(f"  {path.relative_to(settings.REPO_ROOT)}:{line}: {what} in `{text}`; use {instead}"
                       for line, text, what, instead in found)
    assert not found, (
        "DuckDB-only SQL in a model (move it to a macro that dispatches per adapter, or mark the block "
        f"`-- adapter: duckdb` ... `-- end adapter`):\n{report}")


@pytest.mark.parametrize("sql", [
    "select x::integer from t",
    "select a, count(*) from t group by all",
    "select * exclude (a) from t",
    "select list_contains(xs, 1) from t",
    "select unnest(xs) from t",
    "select any_value(a) from t group by b",
    "select strftime(d, '%Y') from t",
    "select date_diff('day', a, b) from t",
    "select d + interval (3) year from t",
    "select * from read_csv('x.csv')",
    "select [1, 2] as xs",
    "select {'a': 1} as s",
    "select a from t qualify row_number() over (partition by a) = 1",
    "select cast(a as varchar[]) from t",
    "select cast(null as varchar) as s",
    "select cast(a as hugeint) // b from t",
    "select string_agg(a, ', ' order by a) from t",
])
def test_the_check_catches_duckdb_only_sql(sql: str) -> None:
    assert offences(sql), sql


@pytest.mark.parametrize("sql", [
    "select cast(a as integer), {{ dbt.dateadd('year', 3, 'd') }} from t -- group by all, x::int",
    "select 'a::b [1] interval' as text_only, concat_ws('; ', a, b) from t",
    "/* unnest(x) */ select coalesce(a, '') from {{ ref('m') }} where d between x and y",
    "-- adapter: duckdb\nselect list_contains(xs, 1) from t",
    "select a\n-- adapter: duckdb\n, x::int\n-- end adapter\nfrom t",
    "select substring({{ dbt.hash(dbt.concat(['a', \"'|'\", 'b'])) }}, 1, 16) from t",
    "select cast(null as {{ dbt.type_string() }}) as s, cast(a as varchar(18)) as u from t",
])
def test_the_check_passes_portable_sql_and_marked_blocks(sql: str) -> None:
    assert not offences(sql), offences(sql)
