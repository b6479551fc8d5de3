"""The set-based ingest (DuckDB staging + SQL twins, `registry.ingest.batch`) says exactly what the
row-by-row definition says: for random hostile files, `prepare()` gives the same rows (fact keys
and parsed values), the same problems (row, field, value, reason, original cells, in order), the
same duplicates, blank rows and GX frame as `readers.read_table` + `rowcheck.check_row` +
`rowcheck.FileDedup` over every row, which is how steps 1-4 are defined.

Also each SQL twin against its parser: whenever a twin accepts a text, the contract's parser
accepts it and gives the value SQL gives.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_fuzz_ingest import AMOUNTS, BAD_USCCS, DATES, USCCS, csv_files, xlsx_files

from registry.core import contracts
from registry.ingest import rowcheck, sqltwins
from registry.ingest.errors import IngestError
from registry.ingest.land import prepare
from registry.ingest.mapping import Binding
from registry.ingest.readers import read_table
from registry.ingest.spec import find_spec

pytestmark = pytest.mark.slow  # property tests over generated hostile files

TODAY = dt.date(2026, 11, 1)
SAME = settings(deadline=None, database=None, derandomize=True, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])


def reference(spec: Any, path: Path) -> dict[str, Any]:
    """Steps 1-4 row by row: the definition."""
    binding = Binding(spec)
    table = read_table(spec, path, binding)
    binding.bind(table.header)
    dedup = rowcheck.FileDedup(spec, path)
    problems, duplicates, frame = [], [], []
    for row in table.rows:
        result = rowcheck.check_row(spec.contract_def, binding, row, TODAY)
        frame.append([row.number, *(result.frame[n] for n in spec.contract_def.field_names)])
        if result.problems:
            problems += result.problems
            continue
        outcome = dedup.offer(result.parsed, row.number, result.raw_row)
        if isinstance(outcome, rowcheck.Duplicate):
            duplicates.append(outcome)
        elif outcome is not None:
            problems.append(outcome)
    return {"rows": _rows(dedup.landed), "problems": problems, "duplicates": duplicates, "frame": frame,
            "blank": table.blank_rows, "physical": table.physical_rows, "read": len(table.rows),
            "warnings": table.warnings + binding.warnings}


def _rows(rows: dict[str, dict[str, Any]]) -> list[tuple[str, int, tuple]]:
    return [(key, row["row_number"], tuple((k, rowcheck.text(v)) for k, v in sorted(row.items())
                                           if k not in ("_key", "row_number")))
            for key, row in rows.items()]


def set_based(spec: Any, path: Path) -> dict[str, Any]:
    prepared = prepare(spec, path, today=TODAY)
    return {"rows": _rows(prepared.rows), "problems": prepared.problems, "duplicates": prepared.duplicates,
            "frame": [list(r) for r in prepared.frame.itertuples(index=False)],
            "blank": prepared.blank_rows, "physical": prepared.physical_rows, "read": prepared.read,
            "warnings": prepared.warnings}


def outcome(spec: Any, path: Path, run: Any) -> Any:
    try:
        return run(spec, path)
    except IngestError as err:
        return ("IngestError", str(err))


def _compare(spec: Any, path: Path) -> None:
    want, got = outcome(spec, path, reference), outcome(spec, path, set_based)
    if isinstance(want, tuple) or isinstance(got, tuple):
        assert got == want
        return
    for part in ("read", "physical", "blank", "warnings", "duplicates", "problems", "rows", "frame"):
        assert got[part] == want[part], part


@SAME
@given(csv_files())
def test_random_csv_files_check_exactly_as_row_by_row(tmp_path: Path, file: tuple[bytes, str]) -> None:
    raw, encoding = file
    path = Path(tempfile.mkdtemp(dir=tmp_path)) / "events_fuzz.csv"
    path.write_bytes(raw)
    _compare(dataclasses.replace(find_spec("events"), encoding=encoding), path)


@settings(SAME, max_examples=15)
@given(xlsx_files())
def test_random_xlsx_files_check_exactly_as_row_by_row(tmp_path: Path, raw: bytes) -> None:
    path = Path(tempfile.mkdtemp(dir=tmp_path)) / "grant_payments_fuzz.xlsx"
    path.write_bytes(raw)
    _compare(find_spec("grant_payments"), path)


def test_a_plain_file_is_decided_in_sql_and_lands_as_row_by_row(tmp_path: Path) -> None:
    """Canonical rows never reach the Python check, and still land with the definition's keys and values."""
    from registry.ingest.batch import check_batch
    from registry.ingest.staging import stage

    lines = ["uscc,firm_name,event_type,action,level,effective_date,document_ref,program,amount"]
    for i, uscc in enumerate(USCCS):
        lines.append(f'{uscc},"福州""引号""\\公司{i}",provincial_grant,granted,provincial,2026-09-25,'
                     f"闽财企〔2026〕{i}号,little_giant,{1000000 + i}.5")
    lines.append(lines[1])  # an exact repeat: a duplicate of row 2
    path = tmp_path / "events_plain.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    spec = find_spec("events")
    _compare(spec, path)
    binding = Binding(spec)
    with duckdb.connect() as con:
        staged = stage(spec, path, binding, con, "staged")
        binding.bind(staged.header)
        checked = check_batch(con, staged, binding, TODAY, path.name)
    assert checked.python_rows == 0 and len(checked.rows) == len(USCCS)
    assert [(d.row_number, d.of_row) for d in checked.duplicates] == [(len(USCCS) + 2, 2)]
    first = next(iter(checked.rows.values()))
    assert first["amount"] == "1000000.50" and first["effective_date"] == "2026-09-25"
    parsed = {f.name: None if first[f.name] is None else f.parse(first[f.name]) for f in spec.contract_def.fields}
    assert parsed["amount"] == Decimal("1000000.50")
    assert first["_key"] == rowcheck.fact_key(spec.contract_def, parsed)


# ------------------------------------------------------------------------------- each twin vs its parser

TEXTS = st.one_of(
    st.sampled_from([*USCCS, *BAD_USCCS, *AMOUNTS, *DATES, "2026-02-29", "2028-02-29", "1949-10-01", "1949-09-30",
                     "2099-12-31", "2100-01-01", "-0", "-0.00", "-12.5", "007", "9999999999999999.99",
                     "10000000000000000", "1999", "2100", "0", "1", "999999", "1000000", "350102", "999999",
                     "C3461", "A01", "U123", "c3461", "national", "provincial", "granted", "hitech", "a\tb",
                     "\u202e", "名\u0085", "ok"]),
    st.text(max_size=12),
    st.from_regex(r"-?[0-9]{1,3}(\.[0-9]{0,3})?", fullmatch=True),
)


def _parsed(fld: contracts.Field, text: str) -> Any:
    try:
        return fld.parse(text)
    except contracts.FieldError:
        return None


@settings(SAME, max_examples=60)
@given(st.lists(TEXTS, min_size=1, max_size=30))
def test_every_twin_accepts_only_what_its_parser_accepts_with_the_same_value(texts: list[str]) -> None:
    frame = pd.DataFrame({"v": texts}, dtype="object")
    with duckdb.connect() as con:
        con.register("t", frame)
        for contract in (contracts.EVENTS, contracts.FIRMS):
            for fld in contract.fields:
                twin = sqltwins.TWINS[contract.name][fld.name]
                typed = sqltwins.text_of(fld.name, f"try_cast(v as {sqltwins.field_type(fld.name)})"
                                         if sqltwins.field_type(fld.name) != "varchar" else "v")
                got = con.execute(f"select v, coalesce({twin.ok('v')}, false), {typed} from t").fetchall()  # noqa: S608
                for text, ok, value in got:
                    if not ok:
                        continue
                    parsed = _parsed(fld, text)
                    if twin.divisions and parsed is None:  # the division is checked apart, in Python
                        continue
                    assert parsed is not None, (contract.name, fld.name, text)
                    assert rowcheck.text(parsed) == value, (contract.name, fld.name, text)
