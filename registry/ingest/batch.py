"""Steps 2-4 set-based: map, check and deduplicate a staged file (`registry.ingest.staging`) in SQL.

The rows DuckDB staged (`Staged.table`: row_number, c0..c{n-1} cell texts) are mapped to contract
texts in SQL: a text field is `clean()` of its first non-empty column (`values.clean`); a field with
a map or a converter (`date`, `amount`, `code`, ...) is converted by Python once per distinct
cleaned text (`Binding.convert`), the results joined back; constants are literals. Each mapped text
is checked by its SQL twin (`registry.ingest.sqltwins`): a twin only ever says "the contract's
parser accepts this text and gives exactly this value", never why not. USCC divisions and the
firm's "same place" rule run in Python once per distinct code (`registry.core.uscc`).

A row every twin accepts, whose cross-field rules cannot be broken (`sqltwins.rules_broken`), is
parsed in SQL. Every other row (a value to normalise, a failing check, a row whose shape the reader
did not trust, typed XLSX/JSON cells, a spec with a transform or a template) is checked by
`rowcheck.check_row`, the Python definition: so every quarantine reason is the one it gives.

Step 4 in SQL: the fact key is `rowcheck.fact_key` (sha256 of the JSON list of the key fields'
texts; texts JSON-escaped by Python's own `json.dumps`, once per distinct value). A row whose
identity group (and `dedup_key` group) holds a single fact is a duplicate of the group's first row
or that first row itself; the rows of groups holding several facts (conflicts) go through
`rowcheck.FileDedup` in file order, which names the earlier row exactly as before.
"""

# ruff: noqa: S608  -- SQL assembled from generated names (c0, f_uscc, ...) and the contract's field names
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from registry.core import contracts
from registry.core.uscc import division_problem, same_place
from registry.ingest import rowcheck, sqltwins
from registry.ingest.errors import RowProblem
from registry.ingest.mapping import Binding, Problem
from registry.ingest.readers import SourceRow
from registry.ingest.spec import FieldSpec, SourceSpec
from registry.ingest.staging import EDGE_CHARS, Staged, cell_column, clean_sql

FETCH_ROWS = 50_000  # rows fetched at a time from DuckDB into Python


@dataclass
class Checked:
    """Steps 2-4 of one staged file."""

    rows: FactRows  # fact key -> the landing row as texts (+ _key, row_number), file order
    problems: list[Problem]
    duplicates: list[rowcheck.Duplicate]
    frame: pd.DataFrame  # every row read: row_number + contract texts (what GX validates)
    facts: pd.DataFrame  # the rows of `rows` as texts (_key, row_number, fields), file order: what lands
    read: int
    python_rows: int = 0  # rows the Python check saw (not decided in SQL)
    timings: dict[str, float] = field(default_factory=dict)


def _column_of(header: list[str], text: str) -> str:
    """The staged column a header text reads: a row's cells are a dict, so the last of equal texts."""
    return cell_column(max(i for i, h in enumerate(header) if h == text))


_EDGE_CLASS = "[" + "".join(f"\\x{{{ord(ch):x}}}" for ch in EDGE_CHARS) + "]"
_EDGE_RE = f"(^|\\x{{1}}){_EDGE_CLASS}|{_EDGE_CLASS}(\\x{{1}}|$)"


def _clean_guarded(cell: str) -> str:
    """`clean_sql(cell)`, trimming only in rows where some cell starts or ends with an edge character
    (`s.edged`, one regex per row): elsewhere trimming changes nothing."""
    return f"(case when s.edged then {clean_sql(cell)} else nullif({cell}, '') end)"


def _edged(width: int) -> str:
    """SQL over a staged row: some cell starts or ends with a character `clean` strips (exact: a cell's
    first character follows the start or a U+0001 separator, its last precedes one or the end)."""
    if not width:
        return "false"
    cells = ", ".join(cell_column(i) for i in range(width))
    return f"coalesce(regexp_matches(concat_ws(chr(1), {cells}), '{_EDGE_RE}'), false)"


def _sql_mappable(spec: SourceSpec) -> bool:
    """Can the spec's mapping run in SQL? A transform or extras (Python over the whole row) and
    templates (several columns joined) are mapped by `Binding.map`, row by row."""
    return spec.transform is None and not spec.extras and all(f.template is None for f in spec.fields)


def _table(con: duckdb.DuckDBPyConnection, name: str, columns: dict[str, str], rows: list[tuple]) -> None:
    con.execute(f"create or replace temp table {name} ({', '.join(f'{c} {t}' for c, t in columns.items())})")
    if rows:
        frame = pd.DataFrame(rows, columns=list(columns), dtype="object")
        con.register("_memo_rows", frame)
        try:
            con.execute(f"insert into {name} select * from _memo_rows")
        finally:
            con.unregister("_memo_rows")


def _distinct(con: duckdb.DuckDBPyConnection, sql: str) -> list[str]:
    return [v for (v,) in con.execute(sql).fetchall()]


class _Plan:
    """The SQL of steps 2-3 for one staged file."""

    def __init__(self, con: duckdb.DuckDBPyConnection, staged: Staged, binding: Binding, today: dt.date) -> None:
        self.con, self.staged, self.binding, self.today = con, staged, binding, today
        self.spec = binding.spec
        self.contract = self.spec.contract_def
        self.twins = sqltwins.TWINS[self.contract.name]
        self.memo = 0
        # the staged rows, with `edged` (`_edged`): what `cleaned` reads as s
        self.source = f"(select *, {_edged(staged.width)} as edged from {staged.table})"

    def _tmp(self, stem: str) -> str:
        self.memo += 1
        return f"{self.staged.table}_{stem}{self.memo}"

    def cleaned(self, fld: FieldSpec) -> str:
        """SQL of `clean(_cell(fld, row))` for a text cell: the first non-empty column it reads."""
        found = self.binding.resolved.get(fld.name, {}).get(fld.column or "", [])
        parts = [_clean_guarded(f"s.{_column_of(self.staged.header, h)}") for h in found]
        if not parts:
            return "null::varchar"
        return parts[0] if len(parts) == 1 else f"coalesce({', '.join(parts)})"

    def mapped(self) -> tuple[dict[str, str], list[str], list[str]]:
        """(field -> SQL of its mapped text, SQL conditions of a conversion that failed, joins)."""
        exprs: dict[str, str] = dict.fromkeys(self.contract.field_names, "null::varchar")
        failed: list[str] = []
        joins: list[str] = []
        for fld in self.spec.fields:
            cleaned = self.cleaned(fld)
            if fld.mapping is None and fld.parse == "text":
                exprs[fld.name] = cleaned
                continue
            memo = self._tmp("conv")
            rows = []
            for text in _distinct(self.con, f"select distinct {cleaned} from {self.source} as s "
                                            f"where {cleaned} is not null"):
                try:
                    rows.append((text, self.binding.convert(fld, text), False))
                except RowProblem:
                    rows.append((text, None, True))
            _table(self.con, memo, {"k": "varchar", "v": "varchar", "bad": "boolean"}, rows)
            joins.append(f"left join {memo} on {memo}.k = {cleaned}")
            exprs[fld.name] = f"{memo}.v"
            failed.append(f"coalesce({memo}.bad, false)")
        for name, value in self.spec.constants.items():
            if name in exprs:
                exprs[name] = "null::varchar" if value is None else sqltwins.lit(str(value))
        return exprs, failed, joins

    def shape_memo(self, table: str, column: str, twin: sqltwins.Twin) -> str:
        """A temp table (v, ok) of every distinct text of `column`: its twin holds and its division
        codes pass `division_problem` (Python, once per distinct code)."""
        memo = self._tmp("shape")
        codes = [d.format(v="v") for d in twin.divisions]
        self.con.execute(f"create or replace temp table {memo} as select v, {twin.ok('v')} as shape"
                         + "".join(f", {c} as code{i}" for i, c in enumerate(codes))
                         + f" from (select distinct {column} as v from {table} where {column} is not null)")
        found: set[str] = set()
        for i in range(len(codes)):
            found.update(_distinct(self.con, f"select distinct code{i} from {memo} where shape"))
        division = self._tmp("div")
        _table(self.con, division, {"code": "varchar", "ok": "boolean"},
               [(c, division_problem(c) is None) for c in sorted(found)])
        joins = " ".join(f"left join {division} as d{i} on d{i}.code = m.code{i}" for i in range(len(codes)))
        passed = " and ".join(["m.shape", *(f"coalesce(d{i}.ok, false)" for i in range(len(codes)))])
        self.con.execute(f"create or replace temp table {memo} as select m.v, coalesce({passed}, false) as ok "
                         f"from {memo} as m {joins}")
        return memo

    def same_place_memo(self, table: str) -> str:
        memo = self._tmp("place")
        pairs = self.con.execute(f"select distinct substr(f_uscc, 3, 6), f_division_code from {table} "
                                 "where f_uscc is not null and f_division_code is not null").fetchall()
        _table(self.con, memo, {"region": "varchar", "division": "varchar", "ok": "boolean"},
               [(r, d, same_place(r, d)) for r, d in pairs])
        return memo


def _fast_sql(plan: _Plan) -> tuple[str, str]:
    """Build temp table `<t>_m` (row_number, f_<field> mapped texts, fast) and return (its name, the SQL
    of the typed value of each field for the fast rows)."""
    con, staged, contract = plan.con, plan.staged, plan.contract
    mapped_table = f"{staged.table}_m"
    names = contract.field_names
    if not _sql_mappable(plan.spec):
        con.execute(f"create or replace temp table {mapped_table} as select row_number, "
                    + ", ".join(f"null::varchar as f_{n}" for n in names) + f", false as fast from {staged.table}")
        return mapped_table, ""
    exprs, failed, joins = plan.mapped()
    base = f"{staged.table}_m0"
    con.execute(f"create or replace temp table {base} as select s.row_number, "
                + ", ".join(f"{exprs[n]} as f_{n}" for n in names)
                + f", not ({' or '.join(failed) or 'false'}) as converted "
                f"from {plan.source} as s {' '.join(joins)}")
    checks: list[str] = []
    memo_joins: list[str] = []
    for fld in contract.fields:
        v = f"b.f_{fld.name}"
        twin = plan.twins[fld.name]
        if twin.divisions:  # USCCs and division codes: repeated across rows, checked once per distinct text
            memo = plan.shape_memo(base, f"f_{fld.name}", twin)
            memo_joins.append(f"left join {memo} as u_{fld.name} on u_{fld.name}.v = {v}")
            shape = f"coalesce(u_{fld.name}.ok, false)"
        else:
            shape = twin.ok(v)
        checks.append(f"({v} is not null and {shape})" if fld.required else f"({v} is null or {shape})")

    def typed(name: str, prefix: str = "") -> str:
        kind = sqltwins.field_type(name)
        return f"{prefix}f_{name}" if kind == "varchar" else f"try_cast({prefix}f_{name} as {kind})"

    same = None
    if contract.name == "firms":
        place = plan.same_place_memo(base)
        memo_joins.append(f"left join {place} as sp on sp.region = substr(b.f_uscc, 3, 6) "
                          "and sp.division = b.f_division_code")
        same = "sp.ok"
    broken = sqltwins.rules_broken(contract, lambda n: typed(n, "b."), plan.today, same_place=same)
    shaped = f"coalesce(b.converted and {' and '.join(checks)}, false)"
    con.execute(f"""create or replace temp table {mapped_table} as
        select b.*, {shaped} and not coalesce({broken}, true) as fast
        from {base} as b {' '.join(memo_joins)}""")
    con.execute(f"drop table {base}")
    return mapped_table, ", ".join(f"{typed(n)} as {n}" for n in names)


def _source_rows(con: duckdb.DuckDBPyConnection, staged: Staged, where: str) -> Iterator[SourceRow]:
    """Staged rows (`where` over s, the staged table, and m, the mapped table) as the reader gave them."""
    header = staged.header
    cells = ", ".join(f"s.{cell_column(i)}" for i in range(len(header)))
    cursor = con.execute(f"select s.row_number{', ' if cells else ''}{cells} from {staged.table} as s "
                         f"join {staged.table}_m as m using (row_number) where {where} order by s.row_number")
    while batch := cursor.fetchmany(FETCH_ROWS):
        for number, *values in batch:
            yield SourceRow(number, {h: values[i] for i, h in enumerate(header)})


def _escape_memo(con: duckdb.DuckDBPyConnection, table: str, column: str, name: str) -> str:
    """A temp table (v, e): json.dumps(v) of every distinct text of `column`."""
    memo = f"{table}_esc_{name}"
    values = _distinct(con, f"select distinct {column} from {table} where {column} is not null")
    _table(con, memo, {"v": "varchar", "e": "varchar"}, [(v, json.dumps(v)) for v in values])
    return memo


def check_batch(con: duckdb.DuckDBPyConnection, staged: Staged, binding: Binding, today: dt.date,
                path_name: str) -> Checked:
    """Steps 2-4 of `staged` (see the module docstring)."""
    spec = binding.spec
    contract = spec.contract_def
    names = contract.field_names
    plan = _Plan(con, staged, binding, today)
    mapped_table, typed_sql = _fast_sql(plan)

    # Python: every row SQL did not accept, and every row the reader did not stage
    results: list[rowcheck.RowResult] = []
    table_rows = _source_rows(con, staged, "not m.fast")
    for row in _merge(table_rows, iter(staged.rows)):
        results.append(rowcheck.check_row(contract, binding, row, today))
    read = con.execute(f"select count(*) from {staged.table}").fetchone()[0] + len(staged.rows)

    # the candidates (rows that passed the contract check) as texts: fast rows from SQL, the others from Python
    text_columns = {"row_number": "integer", **{f"t_{n}": "varchar" for n in names}}
    ok_rows = [(r.number, *(rowcheck.text(r.parsed[n]) for n in names)) for r in results if not r.problems]
    slow_table = f"{staged.table}_slow"
    _table(con, slow_table, text_columns, ok_rows)
    cand = f"{staged.table}_cand"
    if typed_sql:
        con.execute(f"""create or replace temp table {cand} as
            select row_number, {', '.join(f'{sqltwins.text_of(n, "p." + n)} as t_{n}' for n in names)}, true as fast
            from (select row_number, {typed_sql} from {mapped_table} where fast) as p
            union all select *, false from {slow_table}""")
    else:
        con.execute(f"create or replace temp table {cand} as select *, false as fast from {slow_table}")
    _keys(con, cand, contract, spec)

    problems = [p for r in results for p in r.problems]
    duplicates = [rowcheck.Duplicate(n, of) for n, of in con.execute(
        f"select row_number, first_row from {cand} where not involved and row_number <> first_row "
        "order by row_number").fetchall()]
    by_number = {r.number: r for r in results if not r.problems}
    involved = con.execute(f"select row_number, fast, fact_key from {cand} where involved order by row_number"
                           ).fetchall()
    fast_involved = {n for n, fast, _ in involved if fast}
    if fast_involved:  # the Python check of these rows, for the parsed values and the original cells
        for row in _source_rows(con, staged, f"m.fast and m.row_number in (select unnest({sorted(fast_involved)}))"):
            by_number[row.number] = rowcheck.check_row(contract, binding, row, today)
    # the file's cells, and the texts of the rows Python checked, are not read again: freed before
    # the frames are built beside what is left (2M rows: peak 4.37 -> 4.21 GiB)
    con.execute(f"drop table {staged.table}")
    con.execute(f"drop table {slow_table}")
    dedup = rowcheck.FileDedup(spec, path_name)
    landed_involved: dict[int, dict[str, Any]] = {}
    for number, _fast, key in involved:
        result = by_number[number]
        outcome = dedup.offer(result.parsed, number, result.raw_row, key)
        if isinstance(outcome, rowcheck.Duplicate):
            duplicates.append(outcome)
        elif outcome is not None:
            problems.append(outcome)
        else:
            landed_involved[number] = result.parsed
    problems.sort(key=lambda p: p.row_number)  # stable: a row's own problems keep their order
    duplicates.sort(key=lambda d: d.row_number)

    frame = _frame(con, mapped_table, typed_sql, names, results)
    facts = _facts(con, cand, names, landed_involved, frame)
    rows = FactRows(facts, names)
    return Checked(rows=rows, problems=problems, duplicates=duplicates, frame=frame, facts=facts, read=read,
                   python_rows=len(results))


def _merge(first: Iterator[SourceRow], second: Iterator[SourceRow]) -> Iterator[SourceRow]:
    """Two row streams in row-number order, merged in row-number order."""
    import heapq

    return heapq.merge(first, second, key=lambda r: r.number)


def _keys(con: duckdb.DuckDBPyConnection, cand: str, contract: contracts.Contract, spec: SourceSpec) -> None:
    """Replace the candidate table by its rows' keys: row_number, fast, fact_key, first_row and
    involved (see the module docstring). Its texts are not kept: what lands is taken from the GX
    frame (`_facts`); a second copy of the file's texts in DuckDB took the peak at 2M rows from
    3.50 to 4.21 GiB."""
    escaped: dict[str, str] = {}
    joins = []
    wanted = dict.fromkeys([*contract.key_fields, *spec.dedup_key,
                            *(n for names in _identities(contract) for n in names)])
    for n in wanted:
        if sqltwins.field_type(n) == "varchar":
            memo = _escape_memo(con, cand, f"t_{n}", n)
            escaped[n] = f"{memo}.e"
            joins.append(f"left join {memo} on {memo}.v = c.t_{n}")
        else:
            escaped[n] = f"('\"' || c.t_{n} || '\"')"

    def json_list(parts: list[str]) -> str:
        return "('[' || " + " || ', ' || ".join(parts) + " || ']')" if parts else "'[]'"

    key = "substr(sha256(" + json_list([f"coalesce({escaped[n]}, 'null')" for n in contract.key_fields]) + "), 1, 32)"
    if contract.name == "events":
        cases = [f"when c.t_event_type in {sqltwins._types_of(kind)} then "
                 + json_list([sqltwins.lit(json.dumps(list(names)))]
                             + [f"coalesce({escaped[n]}, 'null')" for n in names])
                 for kind, names in sorted(contracts.IDENTITY_BY_KIND.items())]
        identity = "(case " + " ".join(cases) + " end)"
    else:
        names = contract.identity({})
        identity = json_list([sqltwins.lit(json.dumps(list(names)))] + [f"coalesce({escaped[n]}, 'null')"
                                                                         for n in names])
    # str(value) of the parsed value: None is 'None'
    dedup = json_list([f"coalesce({escaped[n]}, '\"None\"')" for n in spec.dedup_key]) if spec.dedup_key else "''"
    con.execute(f"""create or replace temp table {cand}_k as
        select c.*, {key} as fact_key, {identity} as identity, {dedup} as dedup from {cand} as c {' '.join(joins)}""")
    seeds = [f"""identity in (select identity from {cand}_k group by identity
                             having count(distinct fact_key) > 1)"""]
    if spec.dedup_key:
        seeds.append(f"dedup in (select dedup from {cand}_k group by dedup having count(distinct fact_key) > 1)")
    con.execute(f"""create or replace temp table {cand} as
        with facts as (
            select fact_key, min(row_number) as first_row, bool_or({' or '.join(seeds)}) as involved
            from {cand}_k group by fact_key)
        select k.row_number, k.fast, k.fact_key, f.first_row, f.involved
        from {cand}_k as k join facts as f using (fact_key)""")
    con.execute(f"drop table {cand}_k")


def _identities(contract: contracts.Contract) -> list[tuple[str, ...]]:
    if contract.name == "events":
        return list(contracts.IDENTITY_BY_KIND.values())
    return [contract.identity({})]


class FactRows(Mapping[str, dict[str, Any]]):
    """fact key -> the landing row as texts (+ _key, row_number), in file order, over the facts
    frame: a row becomes a dict only when it is asked for (a conflict to describe, a dry run's
    listing), not once per row of every load. `pop` removes a key (step 5: landed before, or a
    conflict); `frame()` is the rows still held, as the frame's rows in file order."""

    def __init__(self, facts: pd.DataFrame, names: tuple[str, ...], positions: dict[str, int] | None = None) -> None:
        self._facts, self._names = facts, names
        self._positions = positions if positions is not None else dict(
            zip(facts["_key"].tolist(), range(len(facts)), strict=True))
        self._columns: list[list[Any]] | None = None

    def _row(self, position: int) -> dict[str, Any]:
        if self._columns is None:  # column lists once: a row is then a few list lookups
            self._columns = [self._facts[n].tolist() for n in ("_key", "row_number", *self._names)]
        key, number, *values = (column[position] for column in self._columns)
        row = dict(zip(self._names, values, strict=True))
        row["_key"], row["row_number"] = key, int(number)
        return row

    def __getitem__(self, key: str) -> dict[str, Any]:
        return self._row(self._positions[key])

    def __iter__(self) -> Iterator[str]:
        return iter(self._positions)

    def __len__(self) -> int:
        return len(self._positions)

    def __contains__(self, key: object) -> bool:
        return key in self._positions

    def pop(self, key: str) -> dict[str, Any]:
        return self._row(self._positions.pop(key))

    def copy(self) -> FactRows:
        return FactRows(self._facts, self._names, dict(self._positions))

    def frame(self) -> pd.DataFrame:
        """The rows still held, as the facts frame's rows (texts, file order)."""
        return self._facts.iloc[sorted(self._positions.values())]


def _frame(con: duckdb.DuckDBPyConnection, mapped_table: str, typed_sql: str, names: tuple[str, ...],
           results: list[rowcheck.RowResult]) -> pd.DataFrame:
    """Every row read as GX sees it: canonical texts where it parsed, else as mapped; file order
    (object columns, None for a missing value; row numbers as ints)."""
    columns = ["row_number", *names]
    parts = []
    if typed_sql:
        parts.append(_objects(con.execute(
            f"""select row_number, {', '.join(f'{sqltwins.text_of(n, "p." + n)} as {n}' for n in names)}
            from (select row_number, {typed_sql} from {mapped_table} where fast) as p
            order by row_number""").df()))
    if results or not parts:
        parts.append(pd.DataFrame([[r.number, *(r.frame[n] for n in names)] for r in results], columns=columns,
                                  dtype="object"))
    if len(parts) == 1:
        return parts[0][columns]
    frame = pd.concat(parts, ignore_index=True)
    order = frame["row_number"].astype("int64").to_numpy().argsort(kind="stable")
    return frame.iloc[order].reset_index(drop=True)[columns]


def _objects(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.astype("object")
    return frame.where(frame.notna(), None)


def _facts(con: duckdb.DuckDBPyConnection, cand: str, names: tuple[str, ...],
           landed_involved: dict[int, dict[str, Any]], frame: pd.DataFrame) -> pd.DataFrame:
    """The landing rows as texts (`rowcheck.text` of each parsed value), file order. A row that
    lands as it is (no conflict to resolve) holds exactly its texts in the GX frame (`_frame`: the
    same canonical text of the same parsed value, in SQL or in Python), so it is taken from there
    with its fact key: the cells are the frame's own objects, not a second copy of the file."""
    columns = ["_key", "row_number", *names]
    keys = con.execute(f"select row_number, fact_key from {cand} "
                       "where not involved and row_number = first_row order by row_number").fetchnumpy()
    numbers = frame["row_number"].to_numpy(dtype="int64")
    wanted = np.asarray(keys["row_number"], dtype="int64")
    positions = np.searchsorted(numbers, wanted)
    if len(wanted) and (positions.max() >= len(numbers) or not (numbers[positions] == wanted).all()):
        raise RuntimeError(f"{cand}: a landing row is missing from the frame GX validates")  # pragma: no cover
    plain = frame.iloc[positions].reset_index(drop=True)
    plain.insert(0, "_key", np.asarray(keys["fact_key"], dtype=object))
    involved = pd.DataFrame([[p["_key"], p["row_number"], *(rowcheck.text(p[n]) for n in names)]
                             for p in landed_involved.values()], columns=columns, dtype="object")
    facts = pd.concat([plain[columns], involved], ignore_index=True) if len(involved) else plain[columns]
    order = facts["row_number"].astype("int64").to_numpy().argsort(kind="stable")
    return facts.iloc[order].reset_index(drop=True)


__all__ = ["Checked", "FactRows", "check_batch"]

