"""Source specs: `sources/<name>/source.yml`, one folder per source, read and checked here.

A source is one folder: its spec (`source.yml`), its Great Expectations suite (`expectations.json`)
and its samples (`samples/`, files named as the publisher delivers them).

A spec says how one publication maps to a contract (`events` or `firms`); `docs/adding-a-source.md`
walks through writing one. Loading a spec checks everything that can be checked without a file:
known keys, that every contract field is mapped or constant, that constants and map values pass the
contract's own parsers (a typo such as `event_type: srdi_provincal` fails here, not at 02:00), that
the GX suite file exists and that a named transform is registered.

This module is imported by the Airflow DAG factory at parse time: stdlib + PyYAML + the light
`registry` modules only (no pandas, duckdb, openpyxl, great_expectations).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from registry.core import settings, vocabulary
from registry.core.contracts import CONTRACTS, Contract, FieldError
from registry.ingest import transforms
from registry.ingest.errors import SpecError
from registry.ingest.values import BUILTIN_MAPS, PARSE_KINDS, UNIT_FACTORS, norm_key

SOURCES_DIR_ENV = settings.SOURCES_DIR_ENV
DEFAULT_SOURCES_DIR = settings.DEFAULT_SOURCES_DIR
FORMATS = ("csv", "xlsx", "json")
IDENTITY = "contract"  # `fields: contract`: the header row is the contract's own field names

_TOP_KEYS = {
    "name", "title", "publisher", "description", "contract", "format", "encoding", "delimiter", "sheet",
    "header_row", "records", "files", "schedule", "fields", "extras", "constants", "maps",
    "dedup_key", "transform", "fill_merged", "ignore_sheets",
}
_FIELD_KEYS = {"column", "template", "aliases", "map", "parse", "unit", "units", "thousands", "day", "optional"}
_CRON = re.compile(r"^(\S+\s+){4}\S+$")
_NAME = re.compile(r"^[a-z][a-z0-9_]{1,48}$")
_TEMPLATE_PART = re.compile(r"\{([^{}]+)\}")


def sources_dir() -> Path:
    """Where the specs live: $REGISTRY_SOURCES_DIR, else `sources/` in the repository."""
    return settings.sources_dir()


@dataclass(frozen=True)
class FieldSpec:
    """Where one contract field (or one extra value for a transform) comes from."""

    name: str
    column: str | None = None  # the source column (header text as published)
    template: str | None = None  # or several columns joined: "{门类}{行业代码}"
    aliases: tuple[str, ...] = ()  # other header texts seen for the same column (renamed headers)
    map_name: str | None = None
    mapping: dict[str, str] | None = None  # norm_key(source text) -> contract text
    parse: str = "text"
    unit: str | None = None
    units: tuple[str, ...] = ()
    thousands: tuple[str, ...] = ()
    day: str = "last"
    optional: bool = False  # the column may be absent from the header (cells then empty)

    @property
    def columns(self) -> tuple[str, ...]:
        """Source columns this field reads (the template's placeholders, or the column)."""
        if self.template is not None:
            return tuple(_TEMPLATE_PART.findall(self.template))
        return (self.column,) if self.column else ()

    @property
    def label(self) -> str:
        return self.template if self.template is not None else str(self.column)


@dataclass(frozen=True)
class SourceSpec:
    name: str
    title: str
    contract: str
    format: str
    files: str
    schedule: str
    suite: str  # the source's GX suite: `expectations.json` beside the spec, named like the source
    fields: tuple[FieldSpec, ...]
    publisher: str = ""
    description: str = ""
    encoding: str = "utf-8"
    delimiter: str = ","
    sheet: str | int = 0
    ignore_sheets: tuple[str, ...] = ()  # xlsx: sheets that are not data; any other sheet with data is an error
    header_row: int | None = 1  # 1-based row number in the file; None = find it
    records: str | None = None  # json: dotted path to the list of records
    extras: tuple[FieldSpec, ...] = ()
    constants: dict[str, str] = field(default_factory=dict)
    dedup_key: tuple[str, ...] = ()  # declared by the spec; the contract's identity applies anyway
    transform: str | None = None
    fill_merged: bool = False
    identity: bool = False  # `fields: contract`
    path: Path | None = None

    @property
    def contract_def(self) -> Contract:
        return CONTRACTS[self.contract]

    @property
    def dag_id(self) -> str:
        return f"registry_ingest_{self.name}"

    @property
    def asset_name(self) -> str:
        return asset_name(self.name)

    @property
    def asset_uri(self) -> str:
        return asset_uri(self.name)

    @property
    def suite_path(self) -> Path:
        folder = self.path.parent if self.path else settings.sources_dir() / self.name
        return folder / settings.SUITE_FILE

    @property
    def where(self) -> str:
        return str(self.path) if self.path else f"source spec {self.name!r}"

    def field(self, name: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.name == name), None)


def asset_name(source: str) -> str:
    """Name of the Airflow Asset an ingest DAG updates when source `source` has landed."""
    return f"registry_raw_{source}"


def asset_uri(source: str) -> str:
    return f"registry://raw/{source}"


# ----------------------------------------------------------------------------------------------- loading


def spec_paths(folder: Path | None = None) -> list[Path]:
    """The spec of every source folder (`<folder>/<name>/source.yml`)."""
    folder = folder or sources_dir()
    return sorted(p for p in folder.glob(f"*/{settings.SPEC_FILE}") if p.is_file()
                  and not p.parent.name.startswith(("_", ".")))


def spec_names(folder: Path | None = None) -> list[str]:
    return [p.parent.name for p in spec_paths(folder)]


def find_spec(name_or_path: str | os.PathLike[str]) -> SourceSpec:
    """A spec by source name (`little_giant`) or by the path of a spec file (a spec being written)."""
    text = str(name_or_path)
    candidate = Path(text)
    if text.endswith((".yml", ".yaml")) or os.sep in text:
        if not candidate.is_file():
            raise SpecError(f"{candidate}: no such spec file")
        return load_spec(candidate)
    path = sources_dir() / text / settings.SPEC_FILE
    if not path.is_file():
        raise SpecError(f"unknown source '{text}'; the sources are: {', '.join(spec_names()) or '(none)'} "
                        f"(one folder per source in {sources_dir()}, its spec in <name>/{settings.SPEC_FILE})")
    return load_spec(path)


def load_all(folder: Path | None = None) -> list[SourceSpec]:
    """Every spec in the folder; the first malformed one raises."""
    return [load_spec(p) for p in spec_paths(folder)]


def load_spec(path: Path) -> SourceSpec:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise SpecError(f"{path}: not valid YAML: {err}") from err
    if not isinstance(data, dict):
        raise SpecError(f"{path}: a spec is a mapping of keys (name, contract, format, fields, ...)")
    return _Loader(path, data).spec()


class _Loader:
    def __init__(self, path: Path, data: dict[str, Any]) -> None:
        self.path = path
        self.data = data

    def fail(self, where: str, message: str) -> SpecError:
        return SpecError(f"{self.path}: {where}: {message}")

    def text(self, key: str, default: str | None = None) -> str:
        value = self.data.get(key, default)
        if value is None:
            raise self.fail(key, "required")
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise self.fail(key, f"must be text, got {value!r}")
        return str(value)

    def spec(self) -> SourceSpec:
        unknown = set(self.data) - _TOP_KEYS
        if unknown:
            raise self.fail("keys", f"unknown {sorted(unknown)} (allowed: {sorted(_TOP_KEYS)})")
        name = self.text("name")
        if name != self.path.parent.name or not _NAME.match(name):
            raise self.fail("name", f"{name!r} must equal the source's folder name ({self.path.parent.name!r}) "
                                    "and be snake_case")
        contract_name = self.text("contract")
        if contract_name not in CONTRACTS:
            raise self.fail("contract", f"{contract_name!r} is not one of {sorted(CONTRACTS)}")
        contract = CONTRACTS[contract_name]
        fmt = self.text("format")
        if fmt not in FORMATS:
            raise self.fail("format", f"{fmt!r} is not one of {', '.join(FORMATS)}")
        maps = self.maps()
        identity = self.data.get("fields") == IDENTITY
        fields = self.identity_fields(contract) if identity else self.fields("fields", contract, maps)
        extras = () if identity else self.fields("extras", None, maps)
        constants = self.constants(contract, {f.name for f in fields})
        self.check_coverage(contract, fields, constants)
        self.check_map_values(contract, fields)
        if contract_name == "events":
            self.check_programs(fields, constants)
        transform = self.data.get("transform")
        if transform is not None and transform not in transforms.TRANSFORMS:
            raise self.fail("transform", f"{transform!r} is not registered in registry/ingest/transforms.py "
                                         f"(have: {', '.join(sorted(transforms.TRANSFORMS)) or 'none'})")
        dedup = self.data.get("dedup_key", [])
        if not isinstance(dedup, list) or ("dedup_key" in self.data and not dedup) or any(
                k not in contract.field_names for k in dedup):
            raise self.fail("dedup_key", f"must be a list of {contract_name} fields, got {dedup!r}")
        suite = name
        if not (self.path.parent / settings.SUITE_FILE).is_file():
            raise self.fail("suite", f"no {settings.SUITE_FILE} beside the spec (the source's GX suite)")
        schedule = self.text("schedule")
        if not _CRON.match(schedule):
            raise self.fail("schedule", f"{schedule!r} is not a 5-part cron expression (Asia/Shanghai)")
        header_row = self.data.get("header_row", 1)
        if header_row == "auto":
            header_row = None
        elif not isinstance(header_row, int) or isinstance(header_row, bool) or header_row < 1:
            raise self.fail("header_row", f"must be a row number from 1, or 'auto', got {header_row!r}")
        if fmt == "json" and header_row not in (1, None):
            raise self.fail("header_row", "JSON records have no header row")
        encoding = self.text("encoding", "utf-8")
        try:
            "".encode(encoding)
        except LookupError as err:
            raise self.fail("encoding", f"unknown encoding {encoding!r}") from err
        sheet = self.data.get("sheet", 0)
        if not isinstance(sheet, str | int) or isinstance(sheet, bool):
            raise self.fail("sheet", f"a sheet name or 0-based index, got {sheet!r}")
        ignore_sheets = self.data.get("ignore_sheets", []) or []
        if not isinstance(ignore_sheets, list) or not all(isinstance(x, str) for x in ignore_sheets):
            raise self.fail("ignore_sheets", f"a list of sheet names that are not data, got {ignore_sheets!r}")
        if ignore_sheets and fmt != "xlsx":
            raise self.fail("ignore_sheets", "only an xlsx workbook has sheets")
        return SourceSpec(
            name=name, title=self.text("title", name), contract=contract_name, format=fmt,
            files=self.text("files"), schedule=schedule, suite=suite, fields=fields,
            publisher=self.text("publisher", ""), description=self.text("description", ""),
            encoding=encoding, delimiter=self.text("delimiter", ","), sheet=sheet,
            ignore_sheets=tuple(ignore_sheets), header_row=header_row,
            records=self.data.get("records"), extras=extras, constants=constants, dedup_key=tuple(dedup),
            transform=transform, fill_merged=bool(self.data.get("fill_merged", False)), identity=identity,
            path=self.path,
        )

    def maps(self) -> dict[str, dict[str, str]]:
        raw = self.data.get("maps", {}) or {}
        if not isinstance(raw, dict):
            raise self.fail("maps", "must map a map name to {source text: contract value}")
        return {str(name): self.one_map(f"maps.{name}", table) for name, table in raw.items()}

    def one_map(self, where: str, table: Any) -> dict[str, str]:
        if not isinstance(table, dict) or not table:
            raise self.fail(where, "must be a non-empty mapping {source text: contract value}")
        return {norm_key(_scalar(k)): _scalar(v) for k, v in table.items()}

    def identity_fields(self, contract: Contract) -> tuple[FieldSpec, ...]:
        return tuple(FieldSpec(name=n, column=n, optional=n not in contract.required_names)
                     for n in contract.field_names)

    def fields(self, key: str, contract: Contract | None, maps: dict[str, dict[str, str]]) -> tuple[FieldSpec, ...]:
        raw = self.data.get(key, {}) or {}
        if not isinstance(raw, dict) or (contract is not None and not raw):
            raise self.fail(key, "must map each field to a source column ({field: column} or {field: {column: ...}})")
        out = []
        for name, entry in raw.items():
            name = str(name)
            if contract is not None and name not in contract.field_names:
                raise self.fail(f"{key}.{name}", f"not a field of the {contract.name} contract "
                                                 f"({', '.join(contract.field_names)})")
            out.append(self.one_field(f"{key}.{name}", name, entry, maps))
        return tuple(out)

    def one_field(self, where: str, name: str, entry: Any, maps: dict[str, dict[str, str]]) -> FieldSpec:
        if isinstance(entry, str):
            entry = {"column": entry}
        if not isinstance(entry, dict):
            raise self.fail(where, f"a column name or a mapping, got {entry!r}")
        unknown = set(entry) - _FIELD_KEYS
        if unknown:
            raise self.fail(where, f"unknown keys {sorted(unknown)} (allowed: {sorted(_FIELD_KEYS)})")
        column, template = entry.get("column"), entry.get("template")
        if (column is None) == (template is None):
            raise self.fail(where, "give exactly one of `column` or `template`")
        if template is not None and not _TEMPLATE_PART.search(str(template)):
            raise self.fail(where, "a template names columns in braces, e.g. '{门类}{行业代码}'")
        parse = entry.get("parse", "text")
        if parse not in PARSE_KINDS:
            raise self.fail(f"{where}.parse", f"{parse!r} is not one of {', '.join(PARSE_KINDS)}")
        unit = entry.get("unit")
        units = tuple(str(u) for u in entry.get("units", [unit] if unit else []))
        if parse == "amount":
            if unit not in UNIT_FACTORS:
                raise self.fail(f"{where}.unit", f"an amount needs the unit of its bare numbers, one of "
                                                 f"{', '.join(UNIT_FACTORS)} (the header usually says: 金额（万元）)")
            bad = [u for u in units if u not in UNIT_FACTORS]
            if bad:
                raise self.fail(f"{where}.units", f"unknown unit(s) {bad}; known: {', '.join(UNIT_FACTORS)}")
        day = entry.get("day", "last")
        if day not in ("first", "last"):
            raise self.fail(f"{where}.day", "first or last (day of the month a month-only date stands for)")
        map_name, mapping = None, None
        if "map" in entry:
            spec_map = entry["map"]
            if isinstance(spec_map, dict):
                map_name, mapping = f"{where}.map", self.one_map(f"{where}.map", spec_map)
            elif spec_map in maps:
                map_name, mapping = str(spec_map), maps[spec_map]
            elif spec_map in BUILTIN_MAPS:
                map_name = str(spec_map)
                mapping = {norm_key(k): v for k, v in BUILTIN_MAPS[spec_map].items()}
            else:
                raise self.fail(f"{where}.map", f"no map {spec_map!r} under `maps:` nor built in "
                                                f"({', '.join(BUILTIN_MAPS)})")
        aliases = entry.get("aliases", [])
        if not isinstance(aliases, list):
            raise self.fail(f"{where}.aliases", "a list of other header texts")
        thousands = entry.get("thousands", [])
        if not isinstance(thousands, list) or any(sep not in (",", "，") for sep in thousands):
            raise self.fail(f"{where}.thousands", "a list of separators among ',' and '，'")
        return FieldSpec(
            name=name, column=None if column is None else str(column), template=template,
            aliases=tuple(str(a) for a in aliases), map_name=map_name, mapping=mapping, parse=parse,
            unit=unit, units=units, thousands=tuple(thousands), day=day, optional=bool(entry.get("optional", False)),
        )

    def constants(self, contract: Contract, mapped: set[str]) -> dict[str, str]:
        raw = self.data.get("constants", {}) or {}
        if not isinstance(raw, dict):
            raise self.fail("constants", "must map contract fields to values")
        out: dict[str, str] = {}
        parsers = {f.name: f.parse for f in contract.fields}
        for name, value in raw.items():
            if name not in parsers:
                raise self.fail(f"constants.{name}", f"not a field of the {contract.name} contract")
            if name in mapped:
                raise self.fail(f"constants.{name}", "also mapped under `fields`: choose one")
            text = _scalar(value)
            try:
                parsers[name](text)
            except FieldError as err:
                raise self.fail(f"constants.{name}", str(err)) from err
            out[name] = text
        return out

    def check_coverage(self, contract: Contract, fields: tuple[FieldSpec, ...], constants: dict[str, str]) -> None:
        covered = {f.name for f in fields} | set(constants)
        missing = [n for n in contract.required_names if n not in covered]
        if missing and self.data.get("transform") is None:
            raise self.fail("fields", f"required contract field(s) {', '.join(missing)} are neither mapped "
                                      "nor constant")

    def check_map_values(self, contract: Contract, fields: tuple[FieldSpec, ...]) -> None:
        parsers = {f.name: f.parse for f in contract.fields}
        for fld in fields:
            if fld.mapping is None or fld.parse != "text":
                continue
            for value in set(fld.mapping.values()):
                try:
                    parsers[fld.name](value)
                except FieldError as err:
                    if fld.map_name in BUILTIN_MAPS:
                        continue  # built-in maps cover several fields' vocabularies at once
                    raise self.fail(f"map {fld.map_name} (field {fld.name})", str(err)) from err


    def check_programs(self, fields: tuple[FieldSpec, ...], constants: dict[str, str]) -> None:
        """A `program` constant or map value must be one the event types of this spec may carry
        (`vocabulary.PROGRAMS`): an unknown programme would land and trigger nothing."""
        by_name = {f.name: f for f in fields}
        event_type = by_name.get("event_type")
        if "event_type" in constants:
            types = {constants["event_type"]}
        elif event_type is not None and event_type.mapping is not None and event_type.map_name not in BUILTIN_MAPS:
            types = set(event_type.mapping.values())
        else:
            types = set(vocabulary.EVENT_TYPE_NAMES)
        if types & vocabulary.FREE_TEXT_PROGRAM_TYPES:
            return
        allowed = set().union(*(vocabulary.PROGRAM_NAMES.get(t, frozenset()) for t in types))
        program = by_name.get("program")
        candidates: list[tuple[str, str]] = []
        if "program" in constants:
            candidates.append(("constants.program", constants["program"]))
        if program is not None and program.mapping is not None:
            where = f"map {program.map_name} (field program)"
            candidates += [(where, v) for v in sorted(set(program.mapping.values()))]
        for where, value in candidates:
            if not allowed:
                raise self.fail(where, f"event type(s) {', '.join(sorted(types))} take no program, got {value!r}")
            if value not in allowed:
                known = "; ".join(f"{t}: {vocabulary.known_programs(t)}" for t in sorted(types)
                                  if t in vocabulary.PROGRAMS)
                raise self.fail(where, f"unknown program {value!r}; known programs: {known} "
                                       "(registry/core/vocabulary.py)")


def _scalar(value: Any) -> str:
    """YAML scalars as contract text: dates become ISO text, numbers their plain form."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, bool):
        raise SpecError(f"{value!r}: write true/false values in quotes")
    return str(value)
