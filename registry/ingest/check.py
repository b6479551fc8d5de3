"""`registry sources check SPEC FILE`: what a file would land, quarantine and why, and the GX result,
without writing anything. It runs the same `registry.ingest.prepare` as a real load, every value
check included; when a registry database exists (`--db` or $REGISTRY_DB) it also runs the same
`against_landed` as a load, read-only: facts already landed, conflicts with them, retractions that
match nothing, firms whose master data changed. So it reports exactly what `ingest` would do."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from registry.core.errors import DatabaseBusy
from registry.ingest.errors import SpecError
from registry.ingest.land import Landing, Prepared, Progress, against_landed, prepare, validate
from registry.ingest.spec import SourceSpec, load_spec, spec_paths
from registry.store import db as registry_db

MAX_SHOWN = 50


@dataclass
class CheckResult:
    prepared: Prepared
    gx: Any  # registry.ingest.validation.ValidationReport
    landing: Landing | None = None  # against a registry database, when one was given
    against: str = "no registry database given: facts already landed, and conflicts with them, are only known " \
                   "at landing (give --db)"

    @property
    def problems(self) -> list[Any]:
        return self.prepared.problems + (self.landing.conflicts if self.landing else [])

    @property
    def would_land(self) -> dict[str, dict[str, Any]]:
        return self.landing.new if self.landing else self.prepared.rows

    @property
    def quarantined_rows(self) -> int:
        return len({q.row_number for q in self.problems})

    @property
    def duplicates(self) -> list[Any]:
        return self.prepared.duplicates + (self.landing.existing if self.landing else [])

    @property
    def warnings(self) -> list[str]:
        return self.prepared.warnings + (self.landing.warnings if self.landing else [])

    @property
    def ok(self) -> bool:
        return self.gx.success and not self.problems

    def to_json_obj(self) -> dict[str, Any]:
        p = self.prepared
        return {
            "source": p.spec.name, "file": str(p.path), "file_sha256": p.sha256, "read": p.read,
            "would_land": len(self.would_land), "quarantined_rows": self.quarantined_rows,
            "duplicates": len(self.duplicates), "blank_rows": p.blank_rows, "physical_rows": p.physical_rows,
            "rows": [{k: _text(v) for k, v in row.items() if k != "_key"} for row in self.would_land.values()],
            "quarantine": [{"row": q.row_number, "field": q.field, "value": q.value, "reason": q.reason}
                           for q in self.problems],
            "duplicate_rows": [{"row": d.row_number, "repeats_row": d.of_row} for d in p.duplicates],
            "already_landed_rows": [{"row": d.row_number, "landed_row": d.of_row}
                                    for d in (self.landing.existing if self.landing else [])],
            "against": self.against,
            "gx": {"suite": self.gx.suite, "success": self.gx.success, "summary": self.gx.summary()},
            "warnings": self.warnings,
        }


def check_file(spec: SourceSpec, path: Path, progress: Progress | None = None, db: Path | None = None) -> CheckResult:
    """The dry run of `path` as source `spec`; with `db` (an existing registry) also against what landed."""
    prepared = prepare(spec, Path(path), progress)
    result = CheckResult(prepared, validate(prepared))
    if db is not None and Path(db).exists():
        try:
            with registry_db.connect(Path(db), read_only=True) as con:
                result.landing = against_landed(con, prepared)
            result.against = f"checked against the registry {db} (read-only)"
        except DatabaseBusy as err:
            result.against = f"could not read the registry {db}: {err.message}; facts already landed are unknown"
    return result


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def render(result: CheckResult, limit: int = MAX_SHOWN) -> str:
    p = result.prepared
    spec = p.spec
    rows, problems = result.would_land, result.problems
    out = [
        f"source {spec.name} ({spec.where}) <- {p.path} [{spec.format}"
        + (f", {spec.encoding}" if spec.format != "xlsx" else "") + f"; {p.location}]",
        f"  contract {spec.contract}; read {p.read} rows: would land {len(rows)}, quarantine "
        f"{result.quarantined_rows}, duplicate {len(result.duplicates)} (nothing written; {result.against})",
        "  columns: " + "; ".join(f"{name} <- {where}" for name, where in p.columns.items()),
    ]
    if p.blank_rows:
        out.append(f"  blank rows (not data): {', '.join(map(str, p.blank_rows[:20]))}"
                   + (" ..." if len(p.blank_rows) > 20 else ""))
    if p.ignored_columns:
        out.append("  not used: " + ", ".join(p.ignored_columns))
    out += [f"  warning: {w}" for w in result.warnings]
    fields = [n for n in spec.contract_def.field_names if any(row.get(n) is not None for row in rows.values())]
    out.append(f"would land ({len(rows)}):")
    if rows:
        table = [["row", *fields]] + [[str(r["row_number"]), *(_text(r.get(n)) for n in fields)]
                                     for r in list(rows.values())[:limit]]
        out += ["  " + line for line in _columns(table)]
        if len(rows) > limit:
            out.append(f"  ... {len(rows) - limit} more")
    out.append(f"would quarantine ({result.quarantined_rows} rows):")
    for q in problems[:limit]:
        value = "" if q.value is None else f" value {q.value!r}:"
        out.append(f"  row {q.row_number} field {q.field}:{value} {q.reason}")
    if len(problems) > limit:
        out.append(f"  ... {len(problems) - limit} more")
    out.append(f"duplicates ({len(result.duplicates)}):")
    out += [f"  row {d.row_number} repeats row {d.of_row} (same fact): counted, not landed again"
            for d in p.duplicates[:limit]]
    if result.landing is not None:
        out += [f"  row {d.row_number} is a fact already landed (landed row {d.of_row}): counted, not landed again"
                for d in result.landing.existing[:limit]]
    out.append(result.gx.summary())
    for outcome in result.gx.failures():
        if outcome.notes:
            out.append(f"  {outcome.label}: {outcome.notes}")
    return "\n".join(out)


def _columns(table: list[list[str]]) -> list[str]:
    widths = [max(_width(row[i]) for row in table) for i in range(len(table[0]))]
    return ["  ".join(cell + " " * (w - _width(cell)) for cell, w in zip(row, widths, strict=True)).rstrip()
            for row in table]


def _width(text: str) -> int:
    """Display width: CJK characters take two columns in a terminal."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def list_specs() -> str:
    """`registry sources list`: every spec, or the error that keeps one from loading."""
    lines = []
    for path in spec_paths():
        try:
            spec = load_spec(path)
        except SpecError as err:  # one broken spec must not hide the others
            lines.append(f"{path.parent.name:<18} BROKEN: {err}")
            continue
        lines.append(f"{spec.name:<18} {spec.contract:<7} {spec.format:<5} {spec.schedule:<12} "
                     f"files {spec.files:<36} suite {spec.suite:<18} {spec.title}")
    return "\n".join(lines)


def stderr_progress(min_rows: int = 500, min_seconds: float = 10.0) -> Progress:
    """Progress of a long load on stderr: files of `min_rows` rows or more, or loads running longer
    than `min_seconds` (a small file prints nothing)."""
    import sys
    import time

    started = time.monotonic()

    def report(stage: str, done: int, total: int) -> None:
        if total < min_rows and time.monotonic() - started < min_seconds:
            return
        share = f" ({100 * done // total}%)" if total else ""
        print(f"  {stage}: {done}/{total}{share}", file=sys.stderr, flush=True)

    return report


def run_sources_command(args: Any) -> int:
    """`registry sources list|check` (argparse namespace from registry.cli)."""
    import json

    from registry.ingest.spec import find_spec

    if args.sources_command == "list":
        print(list_specs())
        return 0
    result = check_file(find_spec(args.spec), args.file, stderr_progress(), db=getattr(args, "db_path", None))
    if args.json:
        print(json.dumps(result.to_json_obj(), ensure_ascii=False, indent=1))
    else:
        print(render(result, args.limit))
    return 0
