"""Land one file of one source with row lineage: the one landing path for every source.

A source is a spec in `sources/` (see `registry.ingest.spec`); the plain `events` and `firms`
sources are specs too (`fields: contract`: the header is the contract's field names). For any
source the steps are the same:

1. read the file (`registry.ingest.readers`: CSV/XLSX/JSON, encoding, header row);
2. map each row to contract texts (`registry.ingest.mapping`: columns, maps, converters, constants);
3. check each row against the contract (`registry.core.contracts` parsers and cross-field rules);
4. dedup: the same fact twice in the file is a duplicate; two rows that share the spec's
   `dedup_key` but differ in the fact are a conflict and the later one is quarantined;
5. validate the batch with the spec's Great Expectations suite (`registry.ingest.validation`);
6. land, in one transaction: new facts into raw.events / raw.firms (source = spec name, file sha256,
   row number in the original file, ingested_at), problems into raw.quarantine (source, row, field,
   reason, the original cells), one row into raw.loads (counts, GX result).

Every row read ends in exactly one place: landed, quarantined, or counted as a duplicate (of a row in
the same file, or of a fact already landed). A crash lands nothing; the same file (sha256) delivered
twice for the same source adds nothing. `prepare()` is steps 1-4 without the database: `registry
sources check` shows it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from registry.core import settings
from registry.core.contracts import Contract, FieldError
from registry.ingest.errors import IngestError, SpecError
from registry.ingest.mapping import Binding, Mapped, Problem
from registry.ingest.readers import read_table
from registry.ingest.spec import SourceSpec, find_spec
from registry.store import db as registry_db
from registry.store import lake

__all__ = ["IngestError", "IngestReport", "Prepared", "Problem", "SpecError", "fact_key", "ingest_file",
           "land", "land_source", "prepare"]

Progress = Callable[[str, int, int], None]  # (stage, done, total)
PROGRESS_EVERY_SECONDS = 2.0


@dataclass
class IngestReport:
    source: str
    file: str
    file_sha256: str
    read: int = 0
    landed: int = 0
    quarantined: int = 0
    duplicate: int = 0
    already_loaded: bool = False
    gx_summary: str = "not run"
    gx_success: bool | None = None
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        head = f"{self.source} <- {Path(self.file).name}: read {self.read}, landed {self.landed}, " \
               f"quarantined {self.quarantined}, duplicate {self.duplicate}"
        if self.already_loaded:
            head += " (this file was loaded before: nothing added)"
        return "\n".join([head, f"  {self.gx_summary}", *(f"  warning: {w}" for w in self.warnings)])

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Duplicate:
    row_number: int
    of_row: int  # the earlier row of the same file it repeats


@dataclass
class Prepared:
    """A file read, mapped, checked and deduplicated within itself; nothing written yet."""

    spec: SourceSpec
    path: Path
    sha256: str
    location: str  # where the header was found
    read: int
    rows: dict[str, dict[str, Any]]  # fact key -> parsed contract row (+ row_number)
    problems: list[Problem]
    duplicates: list[Duplicate]
    frame: pd.DataFrame  # every row read, as contract texts: what GX validates
    warnings: list[str]
    ignored_columns: list[str]
    columns: dict[str, str]  # contract field -> where it comes from (column, template or constant)

    @property
    def quarantined_rows(self) -> int:
        return len({p.row_number for p in self.problems})


def fact_key(contract: Contract, row: dict[str, Any]) -> str:
    canonical = json.dumps([str(row[name]) if row[name] is not None else None for name in contract.key_fields])
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def _parse_row(contract: Contract, mapped: Mapped, row_number: int, binding: Binding,
               ) -> tuple[dict[str, Any], list[Problem]]:
    """The contract check: every field through its parser, then the cross-field rules.

    Returns the fields that parsed (all of them when there is no problem) and the problems."""
    problems = list(mapped.problems)
    parsed: dict[str, Any] = {}
    for fld in contract.fields:
        value = mapped.values.get(fld.name)
        if fld.name in mapped.failed:
            continue
        if value is None:
            if fld.required:
                problems.append(Problem(row_number, fld.name, None, _where(binding, fld.name, "missing required value"),
                                        mapped.raw_row))
            parsed[fld.name] = None
            continue
        try:
            parsed[fld.name] = fld.parse(value)
        except FieldError as err:
            problems.append(Problem(row_number, fld.name, value, _where(binding, fld.name, str(err)), mapped.raw_row))
    if not problems and contract.row_rules is not None:
        problems = [Problem(row_number, f, None, reason, mapped.raw_row) for f, reason in contract.row_rules(parsed)]
    return parsed, problems


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _where(binding: Binding, name: str, reason: str) -> str:
    label = binding.label(name)
    return reason if label == name else f"column {label}: {reason}"


def _conflict(contract: Contract, first: dict[str, Any], second: dict[str, Any]) -> str:
    differing = [n for n in contract.key_fields if first[n] != second[n]]
    shown = ", ".join(f"{n} {first[n]!s} vs {second[n]!s}" for n in differing[:3])
    return shown


def prepare(spec: SourceSpec, path: Path, progress: Progress | None = None) -> Prepared:
    """Steps 1-4 (read, map, contract check, dedup within the file) for `path` as source `spec`."""
    path = Path(path)
    contract = spec.contract_def
    sha = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
    binding = Binding(spec)
    table = read_table(spec, path, binding)
    binding.bind(table.header)
    total = len(table.rows)
    tick = _ticker(progress, "checking rows", total)
    landed: dict[str, dict[str, Any]] = {}
    by_dedup: dict[tuple, dict[str, Any]] = {}
    problems: list[Problem] = []
    duplicates: list[Duplicate] = []
    frame_rows: list[dict[str, str | None]] = []
    for done, row in enumerate(table.rows, start=1):
        mapped = binding.map(row)
        parsed, row_problems = _parse_row(contract, mapped, row.number, binding)
        # GX sees each value as it would land (canonical text) or, where it failed, as mapped.
        frame_rows.append({name: _text(parsed[name]) if name in parsed else mapped.values.get(name)
                           for name in contract.field_names})
        tick(done)
        if row_problems:
            problems.extend(row_problems)
            continue
        key = fact_key(contract, parsed)
        if key in landed:
            duplicates.append(Duplicate(row.number, landed[key]["row_number"]))
            continue
        dedup = tuple(str(parsed[n]) for n in spec.dedup_key)
        earlier = by_dedup.get(dedup)
        if earlier is not None:
            problems.append(Problem(
                row.number, spec.dedup_key[-1], None,
                f"conflicts with row {earlier['row_number']}: same {', '.join(spec.dedup_key)} but "
                f"{_conflict(contract, earlier, parsed)}; one of the two is wrong: correct the source",
                mapped.raw_row))
            continue
        parsed["_key"], parsed["row_number"] = key, row.number
        landed[key] = by_dedup[dedup] = parsed
    columns = {f.name: binding.label(f.name) for f in spec.fields}
    columns.update({name: f"constant {value!r}" for name, value in spec.constants.items()})
    return Prepared(
        spec=spec, path=path, sha256=sha, location=table.location, read=total, rows=landed, problems=problems,
        duplicates=duplicates, frame=pd.DataFrame(frame_rows, columns=list(contract.field_names), dtype="object"),
        warnings=table.warnings + binding.warnings, ignored_columns=binding.ignored, columns=columns,
    )


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


def validate(prepared: Prepared) -> Any:
    """Step 5: the spec's GX suite over every row read (contract texts)."""
    from registry.ingest.validation import validate_frame

    return validate_frame(prepared.spec.suite, prepared.frame)


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
    """Steps 1-6 for `path` as source `spec` into the database `db`."""
    prepared = prepare(spec, path, progress)
    contract = spec.contract_def
    report = IngestReport(source=spec.name, file=str(path), file_sha256=prepared.sha256, read=prepared.read,
                          warnings=prepared.warnings)
    load_id = f"{spec.name}:{prepared.sha256[:20]}"
    ingested_at = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)

    with registry_db.connect(db) as con:
        previous = con.execute("select ingested_at from raw.loads where load_id = ?", [load_id]).fetchone()
        if previous is not None:
            report.already_loaded = True
            report.duplicate = report.read
            report.gx_summary = f"GX not rerun: file first loaded at {previous[0]}"
            return report

        if progress is not None:
            progress("validating (Great Expectations)", 0, 1)
        gx = validate(prepared)
        report.gx_summary, report.gx_success = gx.summary(), gx.success

        landed = dict(prepared.rows)
        table = f"raw.{contract.name}"
        key_column = "event_key" if contract.name == "events" else "firm_key"
        if landed:
            existing = {k for (k,) in con.execute(
                f"select {key_column} from {table} where {key_column} in (select unnest(?))",  # noqa: S608
                [list(landed)],
            ).fetchall()}
            for key in existing:
                del landed[key]
            report.duplicate = len(prepared.duplicates) + len(existing)
        else:
            report.duplicate = len(prepared.duplicates)
        report.landed = len(landed)
        report.quarantined = prepared.quarantined_rows

        if progress is not None:
            progress("landing", 0, report.landed)
        con.execute("begin transaction")
        try:
            _insert_rows(con, contract, table, key_column, landed, spec.name, prepared.sha256, ingested_at, load_id)
            _insert_problems(con, prepared.problems, spec.name, path, prepared.sha256, ingested_at, load_id)
            con.execute(
                "insert into raw.loads values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [load_id, spec.name, path.name, prepared.sha256, ingested_at, report.read, report.landed,
                 report.quarantined, report.duplicate, gx.success, gx.summary(), gx.to_json()],
            )
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise
        if progress is not None:
            progress("landing", report.landed, report.landed)
        if settings.engine() == settings.SPARK:  # the Spark build reads the lake (registry/store/lake.py)
            lake.sync(con, settings.lake_dir(db))
    return report


def _insert_rows(con, contract: Contract, table: str, key_column: str, landed: dict[str, dict[str, Any]],
                 source: str, sha: str, ingested_at: dt.datetime, load_id: str) -> None:
    if not landed:
        return
    names = list(contract.field_names)
    frame = pd.DataFrame(
        [[row["_key"], *(None if row[n] is None else str(row[n]) for n in names), row["row_number"]]
         for row in landed.values()],
        columns=[key_column, *names, "row_number"],
        dtype="object",
    )
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
        [[load_id, source, path.name, sha, p.row_number, p.field, p.value, p.reason,
          json.dumps(p.raw_row, ensure_ascii=False, default=str), ingested_at] for p in problems],
    )
