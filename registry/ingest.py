"""Land a file of one of the plain contracts (`events`, `firms`) with row lineage.

Every row of the file ends in exactly one of three places: landed (with source, file
sha256, row number and ingested_at), quarantined (with the field and the reason), or
counted as a duplicate of a fact already landed. The whole load is one transaction, so a
crash lands nothing and a rerun starts clean; delivering the same file again adds nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from registry import db as registry_db
from registry.contracts import CONTRACTS, Contract, FieldError


class IngestError(ValueError):
    """The file as a whole cannot be read against its contract (nothing was landed)."""


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
class Problem:
    row_number: int
    field: str
    value: str | None
    reason: str
    raw_row: dict[str, str]


def _clean(cell: str | None) -> str | None:
    if cell is None:
        return None
    stripped = cell.strip().strip("\u3000\u00a0\ufeff").strip()
    return stripped or None


def _decode(raw: bytes, path: Path) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise IngestError(
            f"{path}: line {line} is not UTF-8 (byte {err.start}); the plain `events`/`firms` sources "
            "must be UTF-8 CSV: re-save the file as UTF-8 or declare a source spec with its encoding"
        ) from err


def fact_key(contract: Contract, row: dict[str, Any]) -> str:
    canonical = json.dumps([str(row[name]) if row[name] is not None else None for name in contract.key_fields])
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def _parse_row(contract: Contract, raw: dict[str, str | None], row_number: int,
               ) -> tuple[dict[str, Any] | None, list[Problem]]:
    raw_row = {k: v for k, v in raw.items() if k is not None and v is not None}
    parsed: dict[str, Any] = {}
    problems: list[Problem] = []
    for fld in contract.fields:
        value = _clean(raw.get(fld.name))
        if value is None:
            if fld.required:
                problems.append(Problem(row_number, fld.name, None, "missing required value", raw_row))
            parsed[fld.name] = None
            continue
        try:
            parsed[fld.name] = fld.parse(value)
        except FieldError as err:
            problems.append(Problem(row_number, fld.name, value, str(err), raw_row))
    if not problems and contract.row_rules is not None:
        problems = [Problem(row_number, f, None, reason, raw_row) for f, reason in contract.row_rules(parsed)]
    return (None if problems else parsed), problems


def read_rows(contract: Contract, path: Path) -> tuple[list[tuple[int, dict[str, str | None]]], list[str]]:
    """The file's data rows with their line numbers; blank lines skipped; header checked."""
    if not path.is_file():
        raise IngestError(f"{path}: no such file")
    text = _decode(path.read_bytes(), path)
    if not text.strip():
        raise IngestError(f"{path}: the file is empty (expected a header row: {','.join(contract.field_names)})")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [(_clean(h) or "") for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    missing = [name for name in contract.required_names if name not in header]
    if missing:
        raise IngestError(
            f"{path}: header lacks required column(s) {', '.join(missing)}; found {', '.join(header)}; "
            f"the {contract.name} contract is: {','.join(contract.field_names)}"
        )
    warnings = [f"column '{h}' is not in the {contract.name} contract and is ignored"
                for h in header if h and h not in contract.field_names]
    rows: list[tuple[int, dict[str, str | None]]] = []
    for raw in reader:
        if all(_clean(v) is None for v in raw.values() if isinstance(v, str)):
            continue
        if None in raw:
            raw["__extra__"] = ",".join(raw.pop(None) or [])  # type: ignore[call-overload]
        rows.append((reader.line_num, raw))
    return rows, warnings


def _validate_with_gx(source: str, contract: Contract, rows: list[tuple[int, dict[str, str | None]]]):
    from registry.validation import validate_frame

    frame = pd.DataFrame(
        [{name: _clean(raw.get(name)) for name in contract.field_names} for _, raw in rows],
        columns=list(contract.field_names),
    )
    return validate_frame(source, frame)


def ingest_file(source: str, path: Path, db: Path) -> IngestReport:
    """Land `path` as source `source` (`events` or `firms`) into the database `db`."""
    if source not in CONTRACTS:
        raise IngestError(f"unknown source '{source}'; the plain sources are: {', '.join(sorted(CONTRACTS))}")
    contract = CONTRACTS[source]
    path = Path(path)
    sha = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
    rows, warnings = read_rows(contract, path)
    report = IngestReport(source=source, file=str(path), file_sha256=sha, read=len(rows), warnings=warnings)
    load_id = f"{source}:{sha[:20]}"
    ingested_at = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)

    with registry_db.connect(db) as con:
        previous = con.execute("select ingested_at from raw.loads where load_id = ?", [load_id]).fetchone()
        if previous is not None:
            report.already_loaded = True
            report.duplicate = report.read
            report.gx_summary = f"GX not rerun: file first loaded at {previous[0]}"
            return report

        gx = _validate_with_gx(source, contract, rows)
        report.gx_summary, report.gx_success = gx.summary(), gx.success

        landed: dict[str, dict[str, Any]] = {}
        problems: list[Problem] = []
        for row_number, raw in rows:
            parsed, row_problems = _parse_row(contract, raw, row_number)
            if parsed is None:
                problems.extend(row_problems)
                continue
            key = fact_key(contract, parsed)
            if key in landed:
                report.duplicate += 1
                continue
            parsed["_key"], parsed["row_number"] = key, row_number
            landed[key] = parsed

        table = f"raw.{source}"
        key_column = "event_key" if source == "events" else "firm_key"
        if landed:
            existing = {k for (k,) in con.execute(
                f"select {key_column} from {table} where {key_column} in (select unnest(?))",  # noqa: S608
                [list(landed)],
            ).fetchall()}
            for key in existing:
                del landed[key]
            report.duplicate += len(existing)
        report.landed = len(landed)
        report.quarantined = len({p.row_number for p in problems})

        con.execute("begin transaction")
        try:
            _insert_rows(con, contract, table, key_column, landed, source, sha, ingested_at, load_id)
            _insert_problems(con, problems, source, path, sha, ingested_at, load_id)
            con.execute(
                "insert into raw.loads values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [load_id, source, path.name, sha, ingested_at, report.read, report.landed,
                 report.quarantined, report.duplicate, gx.success, gx.summary(), gx.to_json()],
            )
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise
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
          json.dumps(p.raw_row, ensure_ascii=False), ingested_at] for p in problems],
    )
