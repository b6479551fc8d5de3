"""`registry sources check SPEC FILE`: what a file would land, quarantine and why, and the GX result,
without touching any database. It runs the same `registry.ingest.prepare` as a real load."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from registry.ingest.errors import SpecError
from registry.ingest.land import Prepared, Progress, prepare, validate
from registry.ingest.spec import SourceSpec, load_spec, spec_paths

MAX_SHOWN = 50


@dataclass
class CheckResult:
    prepared: Prepared
    gx: Any  # registry.ingest.validation.ValidationReport

    @property
    def ok(self) -> bool:
        return self.gx.success and not self.prepared.problems

    def to_json_obj(self) -> dict[str, Any]:
        p = self.prepared
        return {
            "source": p.spec.name, "file": str(p.path), "file_sha256": p.sha256, "read": p.read,
            "would_land": len(p.rows), "quarantined_rows": p.quarantined_rows, "duplicates": len(p.duplicates),
            "rows": [{k: _text(v) for k, v in row.items() if k != "_key"} for row in p.rows.values()],
            "quarantine": [{"row": q.row_number, "field": q.field, "value": q.value, "reason": q.reason}
                           for q in p.problems],
            "duplicate_rows": [{"row": d.row_number, "repeats_row": d.of_row} for d in p.duplicates],
            "gx": {"suite": self.gx.suite, "success": self.gx.success, "summary": self.gx.summary()},
            "warnings": p.warnings,
        }


def check_file(spec: SourceSpec, path: Path, progress: Progress | None = None) -> CheckResult:
    prepared = prepare(spec, Path(path), progress)
    return CheckResult(prepared, validate(prepared))


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def render(result: CheckResult, limit: int = MAX_SHOWN) -> str:
    p = result.prepared
    spec = p.spec
    out = [
        f"source {spec.name} ({spec.where}) <- {p.path} [{spec.format}"
        + (f", {spec.encoding}" if spec.format != "xlsx" else "") + f"; {p.location}]",
        f"  contract {spec.contract}; read {p.read} rows: would land {len(p.rows)}, quarantine "
        f"{p.quarantined_rows}, duplicate {len(p.duplicates)} (nothing written; duplicates of facts already in "
        "a registry are only known at landing)",
        "  columns: " + "; ".join(f"{name} <- {where}" for name, where in p.columns.items()),
    ]
    if p.ignored_columns:
        out.append("  not used: " + ", ".join(p.ignored_columns))
    out += [f"  warning: {w}" for w in p.warnings]
    fields = [n for n in spec.contract_def.field_names if any(row.get(n) is not None for row in p.rows.values())]
    out.append(f"would land ({len(p.rows)}):")
    if p.rows:
        table = [["row", *fields]] + [[str(r["row_number"]), *(_text(r.get(n)) for n in fields)]
                                     for r in list(p.rows.values())[:limit]]
        out += ["  " + line for line in _columns(table)]
        if len(p.rows) > limit:
            out.append(f"  ... {len(p.rows) - limit} more")
    out.append(f"would quarantine ({p.quarantined_rows} rows):")
    for q in p.problems[:limit]:
        value = "" if q.value is None else f" value {q.value!r}:"
        out.append(f"  row {q.row_number} field {q.field}:{value} {q.reason}")
    if len(p.problems) > limit:
        out.append(f"  ... {len(p.problems) - limit} more")
    out.append(f"duplicates ({len(p.duplicates)}):")
    out += [f"  row {d.row_number} repeats row {d.of_row} (same fact): counted, not landed again"
            for d in p.duplicates[:limit]]
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
            lines.append(f"{path.stem:<18} BROKEN: {err}")
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
    result = check_file(find_spec(args.spec), args.file, stderr_progress())
    if args.json:
        print(json.dumps(result.to_json_obj(), ensure_ascii=False, indent=1))
    else:
        print(render(result, args.limit))
    return 0
