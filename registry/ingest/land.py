"""Land one file of one source with row lineage: the one landing path for every source.

A source is a spec in `sources/` (see `registry.ingest.spec`); the plain `events` and `firms`
sources are specs too (`fields: contract`: the header is the contract's field names). For any
source the steps are the same:

1. read the file into DuckDB (`registry.ingest.staging`: CSV in any declared encoding split by
   DuckDB, with Python's csv reader for the lines that hold quotes; XLSX/JSON via `readers`);
2. map each row to contract texts (`registry.ingest.mapping`: columns, maps, converters, constants),
   in SQL over the whole batch (`registry.ingest.batch`; converters once per distinct value);
3. check each row against the contract (`registry.core.contracts` parsers and cross-field rules):
   the SQL twins (`registry.ingest.sqltwins`) accept the rows the parsers accept as they are, every
   other row is checked in Python by `registry.ingest.rowcheck`, which gives every reason;
4. dedup: the same fact twice in the file is a duplicate; two rows with the same identity (the
   contract's, per event kind: `Contract.identity`; and the spec's `dedup_key` when it declares one)
   but another value are a conflict and the later one is quarantined naming the earlier row;
5. against what landed before (`against_landed`): a fact already landed is a duplicate; a row with
   the identity of a landed fact but another value (1,200,000 where 1,000,000 landed) is a conflict
   naming both rows and files, never a second fact, unless that landed fact is retracted (by a
   landed `retracted` row or one in this file: a correction is a retraction plus the new fact); a
   retraction that matches no fact is reported; firm master data that changed since the last
   delivery is reported (a firm renames or moves: the newest delivery is its master record);
6. validate the batch with the spec's Great Expectations suite (`registry.ingest.validation`);
7. land, in one transaction: new facts into raw.events / raw.firms (source = spec name, file sha256,
   row number in the original file, ingested_at), problems into raw.quarantine (source, row, field,
   reason, the original cells), one row into raw.loads (counts, GX result).

Every physical row of the file ends in exactly one place: landed, quarantined, counted as a duplicate
(of a row in the same file, or of a fact already landed), or skipped as blank (the reader's
`blank_rows`). A crash lands nothing; the same file (sha256) delivered twice for the same source
adds nothing. The load holds the run lock (`registry.store.lock`): one writer at a time. `prepare()`
is steps 1-4 without the database, `against_landed()` step 5 on a read-only connection: `registry
sources check` runs both, so it reports exactly what a load would do.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from registry.core import crashpoints, settings
from registry.core.contracts import Contract
from registry.ingest.batch import FactRows, check_batch
from registry.ingest.errors import IngestError, SpecError
from registry.ingest.mapping import Binding, Problem
from registry.ingest.rowcheck import CORRECTION_HINT, Duplicate, fact_key
from registry.ingest.rowcheck import differing as _differing
from registry.ingest.rowcheck import text as _text
from registry.ingest.spec import SourceSpec, find_spec
from registry.ingest.staging import stage
from registry.store import db as registry_db
from registry.store import lake
from registry.store.lock import writer_lock

__all__ = ["IngestError", "IngestReport", "Landing", "Prepared", "Problem", "SpecError", "against_landed",
           "fact_key", "ingest_file", "land", "land_source", "prepare"]

Progress = Callable[[str, int, int], None]  # (stage, done, total)
PROGRESS_EVERY_SECONDS = 2.0
# Files up to this size start GX's import while DuckDB reads them (a night's delivery: ~0.4 s of a
# 10k-row load); a larger file imports it after, so the ~230 MiB of GX is not held beside DuckDB's
# tables of the whole file (+250 MiB peak at 500k rows), where the second saved is a small share.
BACKGROUND_GX_IMPORT_BYTES = 32 * 1024 * 1024


@dataclass
class IngestReport:
    source: str
    file: str
    file_sha256: str
    read: int = 0
    landed: int = 0
    quarantined: int = 0
    duplicate: int = 0
    blank: int = 0  # physical rows holding nothing (not data, not counted in `read`)
    already_loaded: bool = False
    gx_summary: str = "not run"
    gx_success: bool | None = None
    gx_docs: str | None = None  # the GX Data Docs page of this load's validation
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        head = f"{self.source} <- {Path(self.file).name}: read {self.read}, landed {self.landed}, " \
               f"quarantined {self.quarantined}, duplicate {self.duplicate}" + \
               (f", blank {self.blank} (not data)" if self.blank else "")
        if self.already_loaded:
            head += " (this file was loaded before: nothing added)"
        gx = [f"  {self.gx_summary}"] + ([f"  GX Data Docs: {self.gx_docs}"] if self.gx_docs else [])
        return "\n".join([head, *gx, *(f"  warning: {w}" for w in self.warnings)])

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Prepared:
    """A file read, mapped, checked and deduplicated within itself; nothing written yet."""

    spec: SourceSpec
    path: Path
    sha256: str
    location: str  # where the header was found
    read: int
    rows: FactRows  # fact key -> contract row as texts (`rowcheck.text` of each parsed value)
    problems: list[Problem]
    duplicates: list[Duplicate]
    frame: pd.DataFrame  # every row read, as contract texts plus its source row_number: what GX validates
    facts: pd.DataFrame  # `rows` as texts (_key, row_number, contract fields), file order: what lands
    warnings: list[str]
    ignored_columns: list[str]
    columns: dict[str, str]  # contract field -> where it comes from (column, template or constant)
    blank_rows: list[int] = field(default_factory=list)
    physical_rows: int = 0  # physical rows after the header: read + blank

    @property
    def quarantined_rows(self) -> int:
        return len({p.row_number for p in self.problems})


@dataclass
class Landing:
    """What step 5 found for a prepared file against a database (`against_landed`)."""

    new: FactRows  # fact key -> row that would land
    existing: list[Duplicate]  # rows whose fact has landed before (of_row: the landed row's number)
    conflicts: list[Problem]  # rows whose identity matches a landed fact with another value
    warnings: list[str]

    @staticmethod
    def without_database(prepared: Prepared) -> Landing:
        return Landing(prepared.rows.copy(), [], [], [])


def prepare(spec: SourceSpec, path: Path, progress: Progress | None = None, today: dt.date | None = None,
            sha256: str | None = None) -> Prepared:
    """Steps 1-4 (read, map, contract check, dedup within the file) for `path` as source `spec`:
    DuckDB reads the file and checks the batch in SQL; Python checks only the rows SQL does not
    accept (`registry.ingest.staging`, `registry.ingest.batch`). `sha256`: the file's, when the
    caller has hashed it already."""
    path = Path(path)
    today = today or settings.today()
    sha = sha256 if sha256 is not None else _sha256(path)
    binding = Binding(spec)
    with duckdb.connect(":memory:") as con:
        staged = stage(spec, path, binding, con, "staged")
        binding.bind(staged.header)
        if progress is not None:
            progress("checking rows", 0, 1)
        checked = check_batch(con, staged, binding, today, path.name)
    if progress is not None:
        progress("checking rows", checked.read, checked.read)
    columns = {f.name: binding.label(f.name) for f in spec.fields}
    columns.update({name: f"constant {value!r}" for name, value in spec.constants.items()})
    return Prepared(
        spec=spec, path=path, sha256=sha, location=staged.location, read=checked.read, rows=checked.rows,
        problems=checked.problems, duplicates=checked.duplicates, frame=checked.frame, facts=checked.facts,
        warnings=staged.warnings + binding.warnings, ignored_columns=binding.ignored, columns=columns,
        blank_rows=staged.blank_rows, physical_rows=staged.physical_rows,
    )


def _sha256(path: Path) -> str:
    if not path.is_file():
        return ""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _ticker(progress: Progress | None, stage: str, total: int) -> Callable[[int], None]:
    """Report progress at most every PROGRESS_EVERY_SECONDS, and at the end."""
    last = [time.monotonic()]

    def tick(done: int) -> None:
        if progress is None:
            return
        now = time.monotonic()
        if done == total or now - last[0] >= PROGRESS_EVERY_SECONDS:
            last[0] = now
            progress(stage, done, total)

    return tick


def validate(prepared: Prepared, store: Path | None = None, run_name: str | None = None) -> Any:
    """Step 5: the spec's GX suite over every row read (contract texts; failing rows named by their
    row in the file). With `store`, GX keeps the result in its context there and renders Data Docs."""
    from registry.ingest.validation import validate_frame

    return validate_frame(prepared.spec.suite_path, prepared.frame, store=store, run_name=run_name)


def ingest_file(source: str, path: Path, db: Path, progress: Progress | None = None) -> IngestReport:
    """Land `path` as source `source` (a spec name in sources/, e.g. `events`, `firms`, `little_giant`)."""
    try:
        spec = find_spec(source)
    except SpecError as err:
        if str(err).startswith("unknown source"):
            raise IngestError(str(err)) from err
        raise
    return land(spec, Path(path), db, progress)


def land_source(source: str, path: str | Path, db: Path, log: logging.Logger | None = None) -> dict[str, Any]:
    """What an ingest DAG task runs (dags/registry_ingest.py), callable without Airflow: read the spec
    again (the DAG's parse-time copy may be older than the file), land, log progress, and return the
    report as a JSON-safe dict for XCom."""
    log = log or logging.getLogger(__name__)

    def progress(stage: str, done: int, total: int) -> None:
        log.info("%s %s: %s/%s", source, stage, done, total)

    report = land(find_spec(source), Path(path), db, progress)
    log.info("%s", report.summary())
    return json.loads(json.dumps(report.to_dict(), default=str))


def land(spec: SourceSpec, path: Path, db: Path, progress: Progress | None = None) -> IngestReport:
    """Steps 1-7 for `path` as source `spec` into the database `db`, holding the run lock."""
    with writer_lock(db, f"registry ingest {spec.name} {Path(path).name}"):
        return _land(spec, Path(path), db, progress)


def _load_id(source: str, sha256: str) -> str:
    """raw.loads.load_id: the same bytes delivered again as the same source are the same load."""
    return f"{source}:{sha256[:20]}"


def _land(spec: SourceSpec, path: Path, db: Path, progress: Progress | None) -> IngestReport:
    sha = _sha256(path)
    load_id = _load_id(spec.name, sha)
    with registry_db.connect(db) as con:
        previous = con.execute("select ingested_at, rows_read from raw.loads where load_id = ?", [load_id]).fetchone()
    if previous is not None:  # the same bytes as the same source: nothing to read again
        return IngestReport(source=spec.name, file=str(path), file_sha256=sha, read=previous[1],
                            duplicate=previous[1], already_loaded=True,
                            gx_summary=f"GX not rerun: file first loaded at {previous[0]}")
    if path.is_file() and path.stat().st_size <= BACKGROUND_GX_IMPORT_BYTES:
        from registry.ingest.validation import import_in_background

        import_in_background()  # GX's import (~1 s) while DuckDB reads and checks the file
    # the file is read and checked with the database closed: a long read leaves it to readers
    prepared = prepare(spec, path, progress, sha256=sha)
    with registry_db.connect(db) as con:
        return _land_prepared(con, prepared, db, progress)


def _land_prepared(con: Any, prepared: Prepared, db: Path, progress: Progress | None) -> IngestReport:
    """Steps 5-7 of a prepared file on the open registry connection."""
    spec, path = prepared.spec, prepared.path
    contract = spec.contract_def
    report = IngestReport(source=spec.name, file=str(path), file_sha256=prepared.sha256, read=prepared.read,
                          blank=len(prepared.blank_rows), warnings=list(prepared.warnings))
    load_id = _load_id(spec.name, prepared.sha256)
    ingested_at = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    landing = against_landed(con, prepared)
    if progress is not None:
        progress("validating (Great Expectations)", 0, 1)
    gx = validate(prepared, settings.gx_project_dir(db), run_name=f"{spec.name}-{prepared.sha256[:12]}")
    report.gx_summary, report.gx_success, report.gx_docs = gx.summary(), gx.success, gx.docs_page

    problems = prepared.problems + landing.conflicts
    report.duplicate = len(prepared.duplicates) + len(landing.existing)
    report.landed = len(landing.new)
    report.quarantined = len({p.row_number for p in problems})
    report.warnings += landing.warnings
    table = f"raw.{contract.name}"
    key_column = "event_key" if contract.name == "events" else "firm_key"

    if progress is not None:
        progress("landing", 0, report.landed)
    con.execute("begin transaction")
    try:
        _insert_rows(con, contract, table, key_column, landing.new.frame(), spec.name,
                     prepared.sha256, ingested_at, load_id)
        crashpoints.reach("ingest_rows_inserted")
        _insert_problems(con, problems, spec.name, path, prepared.sha256, ingested_at, load_id)
        con.execute(
            "insert into raw.loads (load_id, source, file_name, file_sha256, ingested_at, rows_read, rows_landed, "
            "rows_quarantined, rows_duplicate, gx_success, gx_summary, gx_result, gx_docs) "
            "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [load_id, spec.name, safe_text(path.name), prepared.sha256, ingested_at, report.read, report.landed,
             report.quarantined, report.duplicate, gx.success, safe_text(gx.summary()), safe_text(gx.to_json()),
             _docs_relative(gx.docs_page, settings.gx_project_dir(db))],
        )
        crashpoints.reach("ingest_before_commit")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    if progress is not None:
        progress("landing", report.landed, report.landed)
    if settings.engine() == settings.SPARK:  # the Spark build reads the lake (registry/store/lake.py)
        lake.sync(con, settings.lake_dir(db))
    return report


def safe_text(text: str | None) -> str | None:
    """`text` as DuckDB can store it: lone surrogates (a JSON `\\ud800`, an undecodable file name)
    become backslash escapes; everything else is kept as it is."""
    if text is None:
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


# ------------------------------------------------------------------------- step 5: against what landed

# A landed retraction (or one in the file) withdraws the facts it names exactly as the models read it:
# the one definition is the dbt macro `retraction_matches` (dbt_project/macros/rules/
# retraction_withdraws.sql, plain Jinja), rendered here once. Its comparisons are typed as raw.events
# is; this file's facts are texts, so they are compared through `_typed`.
_RETRACTION_MACROS = settings.DBT_PROJECT_DIR / "macros" / "rules" / "retraction_withdraws.sql"


@functools.cache
def _retraction_matches(r: str, e: str) -> str:
    """The SQL condition "retraction `r` names record `e`", rendered from the models' own macro."""
    import jinja2

    module = jinja2.Environment().from_string(_RETRACTION_MACROS.read_text(encoding="utf-8")).module
    return str(module.retraction_matches(r, e))  # type: ignore[attr-defined]


def _typed(frame_name: str, extra: str = "") -> str:
    """A registered frame of checked texts, typed as raw.events for the retraction rule."""
    return (f"(select uscc, event_type, level, cast(effective_date as date) as effective_date, program, "  # noqa: S608
            f"cast(amount as decimal(18, 2)) as amount{extra} from {frame_name})")  # our frame names


def _frame(facts: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """Columns `names` of `facts` as texts (row numbers too)."""
    out = facts[names].reset_index(drop=True)
    if "row_number" in names:
        out = out.assign(row_number=out["row_number"].map(str))
    return out.astype("object")


def against_landed(con: Any, prepared: Prepared) -> Landing:
    """Step 5 on an open connection (read-only is enough): which rows are facts already landed,
    which conflict with a landed fact, which retractions match nothing, which firms changed."""
    landing = Landing.without_database(prepared)
    if not landing.new:
        return landing
    contract = prepared.spec.contract_def
    table = f"raw.{contract.name}"
    key_column = "event_key" if contract.name == "events" else "firm_key"
    existing = dict(con.execute(
        f"select {key_column}, row_number from {table} where {key_column} in (select unnest(?))",  # noqa: S608
        [list(landing.new)]).fetchall())
    for key in existing:
        row = landing.new.pop(key)
        landing.existing.append(Duplicate(row["row_number"], existing[key]))
    if contract.name == "events":
        _event_conflicts(con, prepared, landing)
        _unmatched_retractions(con, prepared, landing)
    else:
        _firm_changes(con, prepared, landing)
    return landing


_LANDED_IDENTITY = "landed_identity"  # temp table: identity columns of the landed events of the file's firms


def _landed_identities(con: Any, new: pd.DataFrame, names: list[str]) -> None:
    """Temp table `_LANDED_IDENTITY`: event_key and the identity columns `names` of every landed
    event of the firms in `new`, read once for all the file's identity kinds (their other columns are
    read only for a match: a firm's rows lie all over raw.events, so reading every column of them costs
    a scan of the whole table)."""
    con.register("incoming_usccs", _frame(new, ["uscc"]))
    try:
        con.execute(f"create or replace temp table {_LANDED_IDENTITY} as "  # noqa: S608 (names: contract fields)
                    f"select event_key, {', '.join(names)} from raw.events "
                    "where uscc in (select uscc from incoming_usccs)")
    finally:
        con.unregister("incoming_usccs")


def _landed_candidates(con: Any, incoming: pd.DataFrame, names: list[str]) -> list[dict[str, Any]]:
    """Landed events (of `_LANDED_IDENTITY`) whose `names` match an incoming row's, every column."""
    con.register("incoming_identity", incoming)
    try:
        on = " and ".join(f"e.{n}::varchar is not distinct from i.{n}" for n in names)
        rows = con.execute(f"""
            with hits as materialized (
                select e.event_key, i._key as incoming_key
                from incoming_identity as i join {_LANDED_IDENTITY} as e on {on} and e.event_key <> i._key)
            select h.incoming_key, e.*, l.file_name
            from hits as h join raw.events as e on e.event_key = h.event_key
            left join raw.loads as l on l.load_id = e.load_id
            order by e.ingested_at, e.row_number""").fetchall()  # noqa: S608 (names: contract fields)
        columns = [d[0] for d in con.description]
    finally:
        con.unregister("incoming_identity")
    return [dict(zip(columns, row, strict=True)) for row in rows]


def _retracted_keys(con: Any, events: list[dict[str, Any]], retractions: pd.DataFrame) -> set[str]:
    """Which of these landed events a landed retraction, or one of `retractions` (this file), withdraws."""
    if not events:
        return set()
    keys = [e["event_key"] for e in events]
    con.register("file_retractions", retractions)
    try:
        matches = _retraction_matches("r", "e")
        found = con.execute(f"""
            select e.event_key from raw.events as e
            where e.event_key in (select unnest(?)) and (
                exists (select 1 from raw.events as r where r.action = 'retracted' and {matches})
                or exists (select 1 from {_typed("file_retractions")} as r where {matches}))""",  # noqa: S608
            [keys]).fetchall()
    finally:
        con.unregister("file_retractions")
    return {k for (k,) in found}


def _event_conflicts(con: Any, prepared: Prepared, landing: Landing) -> None:
    contract = prepared.spec.contract_def
    facts = prepared.facts
    retractions = _frame(facts[facts["action"] == "retracted"],
                         ["uscc", "event_type", "level", "effective_date", "program", "amount"])
    new = landing.new.frame()
    types_of: dict[tuple[str, ...], list[str]] = {}  # identity -> its event types, in order of first appearance
    for event_type in pd.unique(new["event_type"]):
        types_of.setdefault(contract.identity({"event_type": event_type}), []).append(event_type)
    conflicts: dict[str, dict[str, Any]] = {}
    _landed_identities(con, new, list(dict.fromkeys(n for names in types_of for n in names)))
    try:
        for names, types in types_of.items():
            incoming = _frame(new[new["event_type"].isin(types)], [*names, "_key"])
            found = _landed_candidates(con, incoming, list(names))
            withdrawn = _retracted_keys(con, found, retractions)
            for landed in found:
                if landed["event_key"] not in withdrawn:
                    conflicts.setdefault(landed["incoming_key"], landed)
    finally:
        con.execute(f"drop table if exists {_LANDED_IDENTITY}")
    for key, landed in conflicts.items():
        row = landing.new.pop(key)
        names = contract.identity(row)
        differing = _differing(contract, landed, row)
        shown = ", ".join(f"{n} {_text(row[n])} (landed: {_text(landed[n])})" for n in differing[:3])
        where = f"{landed.get('file_name') or landed['source']} row {landed['row_number']}"
        landing.conflicts.append(Problem(
            row["row_number"], differing[0], _text(row[differing[0]]),
            f"conflicts with the fact landed from {where} (source {landed['source']}, "
            f"{landed['ingested_at']:%Y-%m-%d %H:%M} UTC): the same fact (same {', '.join(names)}) with another "
            f"value: {shown}. It exists with a different value and is never landed as a second fact; "
            f"{CORRECTION_HINT}", {}))


def _unmatched_retractions(con: Any, prepared: Prepared, landing: Landing) -> None:
    """A retraction that withdraws nothing (no such fact landed, none in this file) is reported: it
    lands, since the fact may come later from another source, but never silently."""
    new = landing.new.frame()
    retractions = new[new["action"] == "retracted"]
    if retractions.empty:
        return
    facts = prepared.facts[prepared.facts["action"] != "retracted"]
    names = ["uscc", "event_type", "level", "effective_date", "program", "amount", "row_number"]
    con.register("new_retractions", _frame(retractions, names))
    con.register("file_facts", _frame(facts, names))
    try:
        lonely = con.execute(f"""
            select r.row_number, r.uscc, r.event_type, r.level, r.effective_date
            from {_typed("new_retractions", ", row_number")} as r
            where not exists (select 1 from raw.events as e where e.action <> 'retracted'
                              and e.uscc = r.uscc and {_retraction_matches("r", "e")})
              and not exists (select 1 from {_typed("file_facts")} as e where {_retraction_matches("r", "e")})
            order by r.row_number::integer""").fetchall()  # noqa: S608
    finally:
        con.unregister("new_retractions")
        con.unregister("file_facts")
    for number, uscc, event_type, level, date in lonely:
        landing.warnings.append(
            f"row {number} retracts {event_type}{'/' + level if level else ''} of {uscc} effective {date}, but no "
            "such fact has landed (nor is in this file): it lands and will withdraw that fact if it arrives; "
            "check the retraction's firm, type, level and date")


def _firm_changes(con: Any, prepared: Prepared, landing: Landing) -> None:
    """Master data that changed since the firm's last delivery (the newest delivery wins: a firm
    renames, moves, changes industry); the changes are reported, a division change first."""
    names = ["uscc", "firm_name", "division_code", "industry_code", "registered_date"]
    con.register("incoming_firms", _frame(landing.new.frame(), names))
    try:
        changed = con.execute("""
            with latest as (
                select * from raw.firms where uscc in (select uscc from incoming_firms)
                qualify row_number() over (partition by uscc order by ingested_at desc, load_id desc,
                                           row_number desc) = 1)
            select i.uscc, i.firm_name, i.division_code, i.industry_code, i.registered_date,
                   l.firm_name, l.division_code, l.industry_code, l.registered_date::varchar, l.row_number,
                   coalesce(ld.file_name, l.source)
            from incoming_firms as i join latest as l using (uscc)
            left join raw.loads as ld on ld.load_id = l.load_id
            order by i.uscc""").fetchall()
    finally:
        con.unregister("incoming_firms")
    for uscc, *values in changed:
        new, old, row_number, file_name = values[:4], values[4:8], values[8], values[9]
        diffs = [f"{n} {o} -> {v}" for n, v, o in zip(names[1:], new, old, strict=True) if (v or None) != (o or None)]
        if diffs:
            landing.warnings.append(f"firm {uscc}: master data changed since {file_name} row {row_number}: "
                                    f"{'; '.join(diffs)} (the newest delivery is its master record)")


def _docs_relative(page: str | None, base: Path) -> str | None:
    """raw.loads.gx_docs: the Data Docs page relative to the database's folder (it moves with a copy)."""
    if page is None:
        return None
    try:
        return Path(page).resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return page


def _insert_rows(con, contract: Contract, table: str, key_column: str, landed: pd.DataFrame,
                 source: str, sha: str, ingested_at: dt.datetime, load_id: str) -> None:
    if landed.empty:
        return
    names = list(contract.field_names)
    frame = landed[["_key", *names, "row_number"]].rename(columns={"_key": key_column}).reset_index(drop=True)
    con.register("incoming", frame)
    try:
        con.execute(
            f"insert into {table} by name select *, ? as source, ? as file_sha256, "  # noqa: S608
            "? as ingested_at, ? as load_id from incoming",
            [source, sha, ingested_at, load_id],
        )
    finally:
        con.unregister("incoming")


def _insert_problems(con, problems: list[Problem], source: str, path: Path, sha: str,
                     ingested_at: dt.datetime, load_id: str) -> None:
    if not problems:
        return
    con.executemany(
        "insert into raw.quarantine values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [[load_id, source, safe_text(path.name), sha, p.row_number, p.field, safe_text(p.value), safe_text(p.reason),
          safe_text(json.dumps(p.raw_row, ensure_ascii=False, default=str)), ingested_at] for p in problems],
    )
