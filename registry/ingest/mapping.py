"""One source row -> the contract's field texts, as its spec says (columns, aliases, maps, converters,
constants, transform). The contract check itself (`registry.core.contracts`) runs after this, in
`registry.ingest.land`, identically for every source.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from registry.ingest import transforms
from registry.ingest.errors import RowProblem
from registry.ingest.readers import SourceRow, normalized_header
from registry.ingest.spec import FieldSpec, SourceSpec
from registry.ingest.values import clean, convert, norm_key

ROW_FIELD = "_row"  # quarantine `field` for a problem of the row as a whole (its shape)


@dataclass(frozen=True)
class Problem:
    row_number: int
    field: str
    value: str | None
    reason: str
    raw_row: dict[str, str]


@dataclass
class Mapped:
    values: dict[str, str | None]  # contract field -> text, before the contract check
    problems: list[Problem] = field(default_factory=list)
    failed: set[str] = field(default_factory=set)  # fields already quarantined here
    raw_row: dict[str, str] = field(default_factory=dict)  # the original cells, for quarantine


class Binding:
    """A spec bound to one file's header: which header column each field reads."""

    def __init__(self, spec: SourceSpec) -> None:
        self.spec = spec
        self.contract = spec.contract_def
        self.resolved: dict[str, dict[str, list[str]]] = {}  # field -> spec column -> header texts found
        self.warnings: list[str] = []
        self.ignored: list[str] = []
        self.used: set[str] = set()  # header texts some field reads
        self.expected = ", ".join(self._describe(f, c) for f in self._all_fields() if not f.optional
                                  for c in f.columns)
        self.explain = (f"; the {self.contract.name} contract is: {','.join(self.contract.field_names)}"
                        if spec.identity else f" (columns declared in {spec.where})")

    def _all_fields(self) -> tuple[FieldSpec, ...]:
        return self.spec.fields + self.spec.extras

    def _describe(self, fld: FieldSpec, column: str) -> str:
        return column if self.spec.identity else f"{column} ({fld.name})"

    @staticmethod
    def _candidates(fld: FieldSpec, column: str) -> tuple[str, ...]:
        return (column, *fld.aliases) if fld.template is None else (column,)

    # ---------------------------------------------------------------- header (readers.HeaderCheck)

    def missing(self, header: list[str]) -> list[str]:
        norm = normalized_header(header)
        out = []
        for fld in self._all_fields():
            if fld.optional:
                continue
            for column in fld.columns:
                if not any(norm_key(c) in norm for c in self._candidates(fld, column)):
                    out.append(self._describe(fld, column) + self._closest(column, norm))
        return out

    def _closest(self, column: str, norm: dict[str, list[str]]) -> str:
        if self.spec.identity:
            return ""
        close = difflib.get_close_matches(norm_key(column), list(norm), n=1, cutoff=0.5)
        return f" [closest in the file: '{norm[close[0]][0]}': a renamed header? add it to `aliases`]" if close else ""

    def bind(self, header: list[str]) -> None:
        norm = normalized_header(header)
        used: set[str] = set()
        for fld in self._all_fields():
            self.resolved[fld.name] = {}
            for column in fld.columns:
                found = list(dict.fromkeys(h for c in self._candidates(fld, column)
                                           for h in norm.get(norm_key(c), [])))
                self.resolved[fld.name][column] = found
                used.update(found)
                for header_text in found:
                    if norm_key(header_text) != norm_key(column):
                        self.warnings.append(f"column '{header_text}' read as '{column}' ({fld.name}): "
                                             "a declared alias")
        self.ignored = [h for h in header if h not in used]
        self.used = used
        if self.spec.identity:
            self.warnings += [f"column '{h}' is not in the {self.contract.name} contract and is ignored"
                              for h in self.ignored if h]

    def label(self, name: str) -> str:
        """How a problem names where a field came from: its source column (or the field itself)."""
        fld = next((f for f in self._all_fields() if f.name == name), None)
        if fld is None:
            return f"constant {name}" if name in self.spec.constants else name
        found = [" ".join(hs[0].split()) for hs in self.resolved.get(name, {}).values() if hs]
        return "+".join(found) if found else fld.label

    def source_text(self, row: SourceRow, name: str) -> str | None:
        fld = next((f for f in self._all_fields() if f.name == name), None)
        if fld is None:
            return self.spec.constants.get(name)
        texts = [clean(row.cells.get(h)) for hs in self.resolved.get(name, {}).values() for h in hs]
        return next((t for t in texts if t is not None), None)

    # ---------------------------------------------------------------- rows

    def map(self, row: SourceRow) -> Mapped:
        raw_row = {k: (v if isinstance(v, str) else clean(v)) for k, v in row.cells.items()
                   if v is not None and clean(v) is not None}
        mapped = Mapped(values=dict.fromkeys(self.contract.field_names), raw_row=raw_row)
        extras: dict[str, str | None] = {}
        for fld in self._all_fields():
            target = extras if fld in self.spec.extras else mapped.values
            try:
                target[fld.name] = self._value(fld, row)
            except RowProblem as err:
                self._problem(mapped, row, fld.name, err.reason)
                target[fld.name] = clean(self._cell(fld, row))
        mapped.values.update(self.spec.constants)
        if row.issue:
            # The row's shape cannot be trusted (shifted, cut, swallowed by a quote, hidden, formulas without
            # values): one problem for the row, not one per cell. A row cut short is quarantined even when the
            # spec reads none of its missing cells: a file cut at a comma would otherwise land (and pay) a row
            # whose last values are lost.
            mapped.problems = [Problem(row.number, ROW_FIELD, None, row.issue, raw_row)]
            mapped.failed.update(self.contract.field_names)
            return mapped
        if self.spec.transform is not None and not mapped.problems:
            try:
                mapped.values.update(transforms.TRANSFORMS[self.spec.transform](dict(mapped.values), extras))
            except RowProblem as err:
                self._problem(mapped, row, err.field or ROW_FIELD, err.reason)
        return mapped

    def _problem(self, mapped: Mapped, row: SourceRow, name: str, reason: str) -> None:
        where = self.label(name)
        if where != name and not reason.startswith("column"):
            reason = f"column {where}: {reason}"
        mapped.problems.append(Problem(row.number, name, self.source_text(row, name), reason, mapped.raw_row))
        mapped.failed.add(name)

    def _cell(self, fld: FieldSpec, row: SourceRow) -> Any:
        if fld.template is not None:
            parts = {}
            for column, found in self.resolved[fld.name].items():
                text = next((clean(row.cells.get(h)) for h in found if clean(row.cells.get(h)) is not None), None)
                if text is None:
                    return None
                parts[column] = text
            return fld.template.format(**parts)
        for header in self.resolved[fld.name].get(fld.column or "", []):
            cell = row.cells.get(header)
            if clean(cell) is not None:
                return cell
        return None

    def _value(self, fld: FieldSpec, row: SourceRow) -> str | None:
        return self.convert(fld, self._cell(fld, row))

    def convert(self, fld: FieldSpec, cell: Any) -> str | None:
        """A field's cell (as `_cell` finds it) -> its contract text: the spec's map, then its converter.
        For a text cell this depends on `clean(cell)` only (the set-based path memoises it)."""
        if cell is None or clean(cell) is None:
            return None
        if fld.mapping is not None:
            text = clean(cell) or ""
            key = norm_key(text)
            if key not in fld.mapping:
                known = sorted({k for k in fld.mapping})
                listed = ", ".join(known[:8]) + (", ..." if len(known) > 8 else "")
                raise RowProblem(fld.name, f"'{text}' is not in map '{fld.map_name}' ({listed}): add it to the spec")
            cell = fld.mapping[key]
        try:
            return convert(fld.parse, cell, unit=fld.unit, units=fld.units, thousands=fld.thousands, day=fld.day)
        except RowProblem as err:
            raise RowProblem(fld.name, err.reason) from err
