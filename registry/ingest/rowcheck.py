"""The contract check of one row, and the in-file dedup, in Python: the definition every reason and
row number comes from.

`check_row` maps one source row (`mapping.Binding`) and checks it against the contract: every field
through its parser, then the cross-field rules. The set-based path (`registry.ingest.batch`) runs it
on the rows its SQL twins do not accept (a value to normalise, a failing check), so every
quarantine reason is this module's. `FileDedup` is step 4 for rows in file order: the same fact
twice is a duplicate, the same identity (or `dedup_key`) with another value a conflict naming the
earlier row; the set-based path runs it on the rows that share an identity with another.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from registry.core.contracts import Contract, FieldError
from registry.ingest.mapping import Binding, Mapped, Problem
from registry.ingest.readers import SourceRow
from registry.ingest.spec import SourceSpec

CORRECTION_HINT = ("if the new value is a correction, send a `retracted` row for the fact as it landed together "
                   "with the new one (docs/adding-a-source.md, \"Corrections\"); if not, correct the source")


@dataclass(frozen=True)
class Duplicate:
    row_number: int
    of_row: int  # the earlier row of the same file it repeats (or the landed row's number)


@dataclass
class RowResult:
    number: int
    parsed: dict[str, Any]  # the fields that parsed (all of them when there is no problem)
    problems: list[Problem]
    frame: dict[str, str | None]  # the row as GX sees it: canonical text where it parsed, else as mapped
    raw_row: dict[str, str]


def fact_key(contract: Contract, row: dict[str, Any]) -> str:
    canonical = json.dumps([str(row[name]) if row[name] is not None else None for name in contract.key_fields])
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def text(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _where(binding: Binding, name: str, reason: str) -> str:
    label = binding.label(name)
    return reason if label == name else f"column {label}: {reason}"


def parse_row(contract: Contract, mapped: Mapped, row_number: int, binding: Binding, today: dt.date,
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
        problems = [Problem(row_number, f, text(parsed.get(f)), reason, mapped.raw_row)
                    for f, reason in contract.row_rules(parsed, today)]
    return parsed, problems


def check_row(contract: Contract, binding: Binding, row: SourceRow, today: dt.date) -> RowResult:
    """Steps 2-3 for one row: mapped by the spec, checked against the contract."""
    mapped = binding.map(row)
    parsed, problems = parse_row(contract, mapped, row.number, binding, today)
    # GX sees each value as it would land (canonical text) or, where it failed, as mapped.
    frame = {name: text(parsed[name]) if name in parsed else mapped.values.get(name) for name in contract.field_names}
    return RowResult(row.number, parsed, problems, frame, mapped.raw_row)


def differing(contract: Contract, first: dict[str, Any], second: dict[str, Any]) -> list[str]:
    return [n for n in contract.key_fields if text(first.get(n)) != text(second.get(n))]


def conflict_text(contract: Contract, first: dict[str, Any], second: dict[str, Any]) -> str:
    shown = ", ".join(f"{n} {first[n]!s} vs {second[n]!s}" for n in differing(contract, first, second)[:3])
    return shown


class FileDedup:
    """Step 4, row by row in file order: offer each row that passed the contract check."""

    def __init__(self, spec: SourceSpec, path: Path) -> None:
        self.spec = spec
        self.contract = spec.contract_def
        self.path = Path(path)
        self.landed: dict[str, dict[str, Any]] = {}
        self.by_dedup: dict[tuple, dict[str, Any]] = {}
        self.by_identity: dict[tuple, dict[str, Any]] = {}

    def offer(self, parsed: dict[str, Any], row_number: int, raw_row: dict[str, str],
              key: str | None = None) -> Duplicate | Problem | None:
        """None when the row is a new fact (it is kept, with `_key` and `row_number`), else the
        duplicate it is or the conflict it makes."""
        contract, spec = self.contract, self.spec
        key = key or fact_key(contract, parsed)
        if key in self.landed:
            return Duplicate(row_number, self.landed[key]["row_number"])
        dedup = tuple(str(parsed[n]) for n in spec.dedup_key)
        earlier = self.by_dedup.get(dedup) if spec.dedup_key else None
        if earlier is not None:
            return Problem(
                row_number, spec.dedup_key[-1], None,
                f"conflicts with row {earlier['row_number']}: same {', '.join(spec.dedup_key)} but "
                f"{conflict_text(contract, earlier, parsed)}; one of the two is wrong: correct the source", raw_row)
        names = contract.identity(parsed)
        identity = (names, tuple(text(parsed[n]) for n in names))
        earlier = self.by_identity.get(identity)
        if earlier is not None:
            diff = differing(contract, earlier, parsed)
            return Problem(
                row_number, diff[0], text(parsed[diff[0]]),
                f"conflicts with row {earlier['row_number']} of {self.path.name}: the same fact (same "
                f"{', '.join(names)}) with another value: {conflict_text(contract, earlier, parsed)} (exists with a "
                f"different value: one of the two is wrong, never a second fact); {CORRECTION_HINT}", raw_row)
        parsed["_key"], parsed["row_number"] = key, row_number
        self.landed[key] = self.by_identity[identity] = parsed
        if spec.dedup_key:
            self.by_dedup[dedup] = parsed
        return None
