"""Great Expectations checks over every ingested batch, stored and rendered by GX itself.

One source of truth for each suite: `sources/<name>/expectations.json`, a small reviewable spec that names
the closed vocabularies instead of copying them:

    {"suite": "events", "description": "...", "expectations": [
      {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "uscc"}, "notes": "..."},
      {"type": "expect_column_values_to_be_in_set",
       "kwargs": {"column": "event_type", "value_set": "@vocabulary.event_types"}},
      {"type": "expect_column_values_to_match_regex", "kwargs": {"column": "amount", "regex": "..."},
       "skip_if_column_missing": true}
    ]}

- `type` is a GX 1.x expectation type (snake case); it maps to the class in `gx.expectations`.
- `kwargs` go to that class unchanged, except that a string value `@vocabulary.<name>` is replaced by the
  sorted list from `registry.core.vocabulary` (see `VOCABULARY_REFERENCES`), read at validation time.
- `skip_if_column_missing` (default false) is for optional contract columns: when the frame has no such
  column the expectation passes vacuously in GX (the column is given as all-null) and the report lists
  it under `skipped`. Required columns are checked by an explicit table-columns expectation.

From the spec, `build_gx_suite` makes a GX `ExpectationSuite`. A load (`validate_frame(..., store=DIR)`)
writes it, in GX's own format, into a file-backed GX context at `DIR/gx/` (beside the database:
`var/gx/` for `var/registry.duckdb`, see `registry.core.settings.gx_project_dir`), runs a GX Checkpoint
that stores the validation result in GX's validations store and updates GX Data Docs
(`DIR/gx/uncommitted/data_docs/local_site/index.html`); the report carries the result's page. The GX
files there are generated, never edited: the spec above is the source. `registry sources check` (a dry
run) validates in an in-memory context and stores nothing.

Frames are validated as given: every column text (object dtype, empty cell -> None), so numeric rules
are written as regexes on the text form; GX is given only the columns the suite reads
(`_needed_columns`). GX's column-map expectations ignore nulls, so "in set" and "match regex" only
judge the values that are present; nulls are caught by explicit not-null entries.
A frame with a `row_number` column (every prepared file has one: the row in the source file, as the
quarantine records it) has GX report failing rows by that number (`unexpected_index_column_names`),
in the results, the Data Docs and our summary; without one, GX's frame index is shown.

Great Expectations is imported lazily, inside functions: Airflow DAG files import registry modules and
must not pay for (or be flooded by the logging of) GX at parse time.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import sys
import threading
import types
import warnings
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from registry.core import settings, vocabulary
from registry.core.errors import RegistryError
from registry.core.settings import SUITE_FILE, sources_dir

if TYPE_CHECKING:
    import pandas

__all__ = [
    "VOCABULARY_REFERENCES",
    "ExpectationOutcome",
    "ExpectationSpec",
    "SuiteSpec",
    "ValidationReport",
    "build_data_docs",
    "build_gx_suite",
    "gx_docs_index",
    "load_suite",
    "suite_names",
    "validate_frame",
]

# `@vocabulary.<key>` in a suite's kwargs -> the closed vocabulary it names (read at call time, so the
# vocabulary module stays the one source of truth).
VOCABULARY_REFERENCES: dict[str, str] = {
    "event_types": "EVENT_TYPE_NAMES",
    "actions": "ACTIONS",
    "levels": "LEVELS",
    "grant_programs": "GRANT_PROGRAM_NAMES",
}


class SuiteError(RegistryError):
    """An expectation suite (sources/<name>/expectations.json) cannot be loaded; the message names file and entry."""


_VOCABULARY_PREFIX = "@vocabulary."
_ENTRY_KEYS = frozenset({"type", "kwargs", "notes", "skip_if_column_missing"})
_SUITE_KEYS = frozenset({"suite", "description", "expectations"})
_META_KEY = "registry_entry"  # carried through GX so results map back to our entries
_MAX_EXAMPLES = 5
_ABSENT_COLUMN = "no such column in the frame:"
# COMPLETE: GX keeps every unexpected value with its row_number, and Data Docs show the rows (SUMMARY
# renders values and counts only). Bounded by the bad values, which the quarantine holds anyway.
_RESULT_FORMAT = {"result_format": "COMPLETE", "partial_unexpected_count": 20}
ROW_COLUMN = "row_number"  # the source row of each frame row, as the quarantine names it
_DATASOURCE = "registry"
# Inlined by GX into every Data Docs page: readable without GX's CDN assets (no internet here).
_OFFLINE_CSS = Path(__file__).with_name("gx_offline.css")
_BATCH = "whole_frame"
# The Data Docs home page lists this many validations, the newest first. GX builds it on every load
# by reading every stored result (0.18 s with 50 stored, 0.44 s with 300: about 1 ms a load more on
# every later load); each load's own page stays, and raw.loads.gx_docs names it.
DOCS_INDEX_VALIDATIONS = 100

_lock = threading.Lock()  # one GX context per process; its datasource is not meant for concurrent use


# --------------------------------------------------------------------------------------------- reports


@dataclass(frozen=True)
class ExpectationOutcome:
    """One expectation's verdict on one batch."""

    expectation: str  # the suite entry's `type`, e.g. "expect_column_values_to_match_regex"
    column: str | None  # None for table-level expectations
    success: bool
    # Column-map expectations: rows that broke it (GX's unexpected_count). Table-level expectations:
    # the number of listed problems (e.g. missing columns). 0 when it passed.
    unexpected_count: int
    unexpected_examples: list[str]  # a few distinct offending values (or missing columns, observed value)
    notes: str | None
    error: str | None = None  # GX raised while evaluating (e.g. the column does not exist)
    unexpected_rows: list[int] = field(default_factory=list)  # source rows (row_number) that broke it, first 20

    @property
    def label(self) -> str:
        """Short human name: "uscc match regex", "level in set", "table columns match set"."""
        return _label(self.expectation, self.column)


def _label(kind: str, column: str | None) -> str:
    name = kind.removeprefix("expect_")
    if column is not None:
        name = name.removeprefix("column_values_to_").removeprefix("column_")
        name = name.removeprefix("be_")
    name = name.replace("_to_be_", "_").replace("_to_", "_").replace("_be_", "_").replace("_", " ")
    return f"{column} {name}" if column is not None else name


@dataclass(frozen=True)
class ValidationReport:
    suite: str
    success: bool
    evaluated: int
    failed: int
    outcomes: list[ExpectationOutcome]  # in suite-file order
    skipped: list[str] = field(default_factory=list)  # entries not run: optional column absent
    docs_page: str | None = None  # GX Data Docs page of this validation result (stored loads only)
    result_id: str | None = None  # GX's validation result identifier (stored loads only)

    def failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success]

    def summary(self) -> str:
        """One line, e.g. `GX suite events: 11/12 passed; failed: uscc match regex (2 rows: 9135..., x)`."""
        line = f"GX suite {self.suite}: {self.evaluated - self.failed}/{self.evaluated} passed"
        if self.skipped:
            line += f" ({len(self.skipped)} skipped: {', '.join(self.skipped)})"
        failed = [o for o in self.failures() if not _is_absent_column(o)]
        absent = sorted({str(o.column) for o in self.failures() if _is_absent_column(o)})
        parts = [_describe_failure(o) for o in failed]
        if absent:
            parts.append(f"not run, column absent: {', '.join(absent)}")
        if parts:
            line += "; failed: " + "; ".join(parts)
        return line

    def to_json(self) -> str:
        """Deterministic JSON (sorted keys, outcomes in suite order) for storage in the database."""
        payload = asdict(self)
        return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _is_absent_column(outcome: ExpectationOutcome) -> bool:
    return outcome.error is not None and outcome.error.startswith(_ABSENT_COLUMN)


def _describe_failure(outcome: ExpectationOutcome) -> str:
    if outcome.error is not None:
        return f"{outcome.label} (error: {_clip(outcome.error, 80)})"
    examples = ", ".join(_clip(e, 24) for e in outcome.unexpected_examples[:3])
    if len(outcome.unexpected_examples) > 3:
        examples += ", ..."
    if outcome.column is not None:
        rows = "row" if outcome.unexpected_count == 1 else "rows"
        where = ""
        if outcome.unexpected_rows and not any(" at row " in e for e in outcome.unexpected_examples):
            shown = ", ".join(str(r) for r in outcome.unexpected_rows[:5])
            more = ", ..." if len(outcome.unexpected_rows) > 5 else ""
            where = f"; {'row' if len(outcome.unexpected_rows) == 1 else 'rows'} {shown}{more}"
        return f"{outcome.label} ({outcome.unexpected_count} {rows}: {examples}{where})"
    return f"{outcome.label} ({examples})" if examples else outcome.label


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


# ------------------------------------------------------------------------------------------ suite files


@dataclass(frozen=True)
class ExpectationSpec:
    """One entry of a suite file, vocabulary references still unresolved."""

    type: str
    kwargs: dict[str, Any]
    notes: str | None = None
    skip_if_column_missing: bool = False

    @property
    def column(self) -> str | None:
        column = self.kwargs.get("column")
        return column if isinstance(column, str) else None


@dataclass(frozen=True)
class SuiteSpec:
    name: str
    description: str
    path: Path
    expectations: list[ExpectationSpec]


def suite_names() -> list[str]:
    """The suites that exist: one per source folder with an `expectations.json`."""
    return sorted(p.parent.name for p in sources_dir().glob(f"*/{SUITE_FILE}"))


def _suite_path(suite: str | Path) -> Path:
    """A suite by source name (sources/<name>/expectations.json), or its file (a spec outside sources/)."""
    return suite if isinstance(suite, Path) else sources_dir() / suite / SUITE_FILE


def load_suite(suite: str | Path) -> SuiteSpec:
    """Read and check a source's suite, `sources/<name>/expectations.json` (or that file given by
    path), structure only; GX is not imported."""
    path = _suite_path(suite)
    if (isinstance(suite, str) and ("/" in suite or "\\" in suite)) or not path.is_file():
        raise SuiteError(f"no expectation suite {suite!r}: {path} does not exist (have: {suite_names()})")
    suite = path.parent.name
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise SuiteError(f"{path}: not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise SuiteError(f"{path}: top level must be an object")
    unknown = set(data) - _SUITE_KEYS
    if unknown:
        raise SuiteError(f"{path}: unknown keys {sorted(unknown)} (allowed: {sorted(_SUITE_KEYS)})")
    if data.get("suite") != suite:
        raise SuiteError(f"{path}: 'suite' is {data.get('suite')!r}, expected {suite!r} (the source's folder)")
    entries = data.get("expectations")
    if not isinstance(entries, list) or not entries:
        raise SuiteError(f"{path}: 'expectations' must be a non-empty list")
    specs = [_parse_entry(path, i, entry) for i, entry in enumerate(entries)]
    return SuiteSpec(name=suite, description=str(data.get("description", "")), path=path, expectations=specs)


def _parse_entry(path: Path, index: int, entry: object) -> ExpectationSpec:
    where = f"{path}: expectations[{index}]"
    if not isinstance(entry, dict):
        raise SuiteError(f"{where}: must be an object, got {entry!r}")
    unknown = set(entry) - _ENTRY_KEYS
    if unknown:
        raise SuiteError(f"{where}: unknown keys {sorted(unknown)} (allowed: {sorted(_ENTRY_KEYS)})")
    kind = entry.get("type")
    kwargs = entry.get("kwargs", {})
    notes = entry.get("notes")
    skip = entry.get("skip_if_column_missing", False)
    if not isinstance(kind, str) or not kind.startswith("expect_"):
        raise SuiteError(f"{where}: 'type' must be an expectation type like 'expect_...', got {kind!r}")
    if not isinstance(kwargs, dict):
        raise SuiteError(f"{where} ({kind}): 'kwargs' must be an object")
    if notes is not None and not isinstance(notes, str):
        raise SuiteError(f"{where} ({kind}): 'notes' must be a string")
    if not isinstance(skip, bool):
        raise SuiteError(f"{where} ({kind}): 'skip_if_column_missing' must be true or false")
    if skip and not isinstance(kwargs.get("column"), str):
        raise SuiteError(f"{where} ({kind}): 'skip_if_column_missing' needs a 'column' kwarg")
    return ExpectationSpec(type=kind, kwargs=dict(kwargs), notes=notes, skip_if_column_missing=skip)


def _resolve_value(value: Any, where: str) -> Any:
    if isinstance(value, str) and value.startswith(_VOCABULARY_PREFIX):
        key = value.removeprefix(_VOCABULARY_PREFIX)
        if key not in VOCABULARY_REFERENCES:
            raise SuiteError(
                f"{where}: unknown vocabulary reference {value!r} "
                f"(known: {sorted(_VOCABULARY_PREFIX + k for k in VOCABULARY_REFERENCES)})"
            )
        return sorted(getattr(vocabulary, VOCABULARY_REFERENCES[key]))
    return value


def _resolved_kwargs(spec: SuiteSpec, index: int) -> dict[str, Any]:
    entry = spec.expectations[index]
    where = f"{spec.path}: expectations[{index}] ({entry.type})"
    return {k: _resolve_value(v, where) for k, v in entry.kwargs.items()}


# ------------------------------------------------------------------------------------------- GX plumbing


_importing: list[threading.Thread] = []  # the background import, once started (import_in_background)


def import_in_background() -> None:
    """Start importing Great Expectations on a thread of its own, once per process: a load needs
    it only after DuckDB has read and checked the file, and DuckDB's work (which releases the GIL)
    then overlaps GX's import (~1 s of every ingest process) instead of preceding it. The first
    `_import_gx` waits for it; an import that failed there is simply done again, and raises, on the
    caller's thread."""
    if _importing or "great_expectations" in sys.modules:
        return
    thread = threading.Thread(target=_import_quietly, name="registry-gx-import", daemon=True)
    _importing.append(thread)
    thread.start()


def _import_quietly() -> None:
    with contextlib.suppress(Exception):  # the caller's own _import_gx raises it, where it is handled
        _import_gx()


def _import_gx() -> Any:
    """Import great_expectations quietly: no analytics, no INFO chatter on the host's log handlers."""
    if _importing and _importing[0] is not threading.current_thread():
        _importing[0].join()
    settings.quiet_third_party()
    gx_logger = logging.getLogger("great_expectations")
    if gx_logger.level == logging.NOTSET:
        # Before import: GX's module loggers are children of this one. Without it, a host that logs
        # INFO to stdout (Airflow's structlog bridge, logging.basicConfig) gets hundreds of
        # "Skipping registering function ..." lines from great_expectations._docs_decorators.
        gx_logger.setLevel(logging.WARNING)
    # pyspark (installed for the spark engine) ends a `python -c` process with exit 0 when GX probes
    # Spark Connect without its extras (pyspark.sql.connect.utils.check_dependencies takes such a
    # process for a doctest run). The registry never uses Spark Connect: GX is told it is absent,
    # which is what it finds in any other process (the import fails on the missing pyarrow).
    if "pyspark.sql.connect" not in sys.modules:
        sys.modules["pyspark.sql.connect"] = None  # type: ignore[assignment]
    # Where pyspark is not loaded yet, GX is told it is absent altogether while it imports: GX's
    # compatibility shim otherwise imports pyspark.ml (and scipy.sparse with it), about 1 s of every
    # ingest process, for Spark datasources the registry never uses. pyspark stays importable after.
    hidden = "pyspark" not in sys.modules and "great_expectations" not in sys.modules
    if hidden:
        sys.modules["pyspark"] = None  # type: ignore[assignment]
    # GX imports scipy.stats at its top level for distribution expectations (KL divergence, KS
    # tests) no suite here uses: 0.8 s of every ingest process. While GX imports, `scipy` is a
    # stand-in whose submodules are imported for real on first use (_DeferredPackage).
    deferred = _DeferredPackage("scipy") if hidden and "scipy" not in sys.modules else None
    if deferred is not None:
        sys.modules["scipy"] = deferred
    try:
        try:
            import great_expectations as gx
        except ImportError:
            if deferred is None:
                raise
            # something imported scipy's submodules while GX imported: import it all for real
            for name in [m for m in sys.modules if m == "great_expectations" or m.startswith("great_expectations.")]:
                del sys.modules[name]
            sys.modules.pop("scipy", None)
            deferred = None
            import great_expectations as gx
    finally:
        if hidden and sys.modules.get("pyspark", ...) is None:
            del sys.modules["pyspark"]
        if deferred is not None and sys.modules.get("scipy") is deferred:
            del sys.modules["scipy"]

    _share_template_code()
    # GX pins this one module's logger to INFO itself ("Created temporary directory ... for ephemeral
    # docs site" on every ephemeral context), overriding the parent level; put it back in line.
    base_logger = logging.getLogger("great_expectations.data_context.types.base")
    if base_logger.level == logging.INFO:
        base_logger.setLevel(logging.NOTSET)
    return gx


_TEMPLATE_CODE: dict[str, bytes] = {}  # Jinja's compiled Data Docs templates, by jinja's bucket key


def _share_template_code() -> None:
    """Give every GX Data Docs view the process's compiled templates; once. GX makes a new Jinja
    environment for every view it renders, so every Data Docs update compiled page.j2, section.j2,
    component.j2 and the rest again: about 0.13 s of the 0.19 s each ingest of a small file spent on
    its Data Docs (profiled on tests/test_fuzz_ingest.py). Jinja's bytecode cache checks each entry
    against its template's source checksum, and the code it keeps reads filters and globals from the
    environment rendering it, never from the one that compiled it."""
    from great_expectations.render.view import view
    from jinja2 import BytecodeCache

    init = view.DefaultJinjaView.__init__
    if getattr(init, "registry_shared_code", False):
        return

    class SharedCode(BytecodeCache):
        def load_bytecode(self, bucket: Any) -> None:
            code = _TEMPLATE_CODE.get(bucket.key)
            if code is not None:
                bucket.bytecode_from_string(code)

        def dump_bytecode(self, bucket: Any) -> None:
            _TEMPLATE_CODE[bucket.key] = bucket.bytecode_to_string()

    shared = SharedCode()

    def init_sharing_code(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        self.env.bytecode_cache = shared

    init_sharing_code.registry_shared_code = True  # type: ignore[attr-defined]
    view.DefaultJinjaView.__init__ = init_sharing_code  # type: ignore[method-assign]


class _DeferredModule(types.ModuleType):
    """Stands for module `name` in a namespace that imported it: the real module is imported, and
    the attribute read from it, on first use."""

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        return getattr(importlib.import_module(self.__name__), attribute)


class _DeferredPackage(types.ModuleType):
    """Stands for a package in sys.modules while GX imports: `from scipy import stats` gets a
    `_DeferredModule("scipy.stats")`. Removed from sys.modules once GX is imported."""

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        return _DeferredModule(f"{self.__name__}.{attribute}")


@cache
def _expectation_classes() -> dict[str, type]:
    """GX expectation type (snake case) -> class, from the classes `gx.expectations` exports."""
    gx = _import_gx()
    from great_expectations.expectations.expectation import Expectation

    classes: dict[str, type] = {}
    for name in dir(gx.expectations):
        obj = getattr(gx.expectations, name)
        if isinstance(obj, type) and issubclass(obj, Expectation):
            kind = getattr(obj, "expectation_type", None)
            if isinstance(kind, str) and kind:
                classes[kind] = obj
    return classes


@dataclass
class _Context:
    context: Any
    batch_definition: Any


def _quiet_context(context: Any) -> None:
    from great_expectations.data_context.types.base import ProgressBarsConfig

    # tqdm "Calculating Metrics" bars on stderr for every validation otherwise.
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)


@cache
def _context() -> _Context:
    """One ephemeral (in-memory) GX context per process, for dry runs: nothing is stored."""
    gx = _import_gx()
    context = gx.get_context(mode="ephemeral")
    _quiet_context(context)
    source = context.data_sources.add_pandas(name=_DATASOURCE)
    asset = source.add_dataframe_asset(name="frame")
    batch_definition = asset.add_batch_definition_whole_dataframe(name=_BATCH)
    return _Context(context=context, batch_definition=batch_definition)


@cache
def _file_context(project_dir: Path) -> Any:
    """The file-backed GX context at `project_dir/gx/` (created on first use), with analytics off."""
    gx = _import_gx()
    project_dir.mkdir(parents=True, exist_ok=True)
    context = gx.get_context(mode="file", project_root_dir=str(project_dir))
    _quiet_context(context)
    styles = project_dir / "gx" / "plugins" / "custom_data_docs" / "styles" / "data_docs_custom_styles.css"
    styles.parent.mkdir(parents=True, exist_ok=True)
    styles.write_text(_OFFLINE_CSS.read_text(encoding="utf-8"), encoding="utf-8")
    _bound_docs_index(context)
    try:
        context.data_sources.get(_DATASOURCE)
    except Exception:  # GX raises its own KeyError flavours for a missing datasource
        context.data_sources.add_pandas(name=_DATASOURCE)
    return context


def _bound_docs_index(context: Any) -> None:
    """The home page of every Data Docs site lists the newest DOCS_INDEX_VALIDATIONS validations
    (GX's own `validation_results_limit`), written to the context's config once."""
    sites = context.variables.data_docs_sites or {}
    changed = False
    for site in sites.values():
        builder = site.setdefault("site_index_builder", {"class_name": "DefaultSiteIndexBuilder"})
        if builder.get("validation_results_limit") != DOCS_INDEX_VALIDATIONS:
            builder["validation_results_limit"] = DOCS_INDEX_VALIDATIONS
            changed = True
    if changed:
        context.variables.data_docs_sites = sites
        context.variables.save()


def gx_docs_index(project_dir: Path) -> Path:
    """GX Data Docs' home page for the context at `project_dir/gx/`."""
    return project_dir / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"


def build_data_docs(project_dir: Path) -> Path:
    """(Re)build GX Data Docs from every suite and stored result at `project_dir/gx/`; the home page."""
    context = _file_context(Path(project_dir))
    with _lock:
        context.build_data_docs()
    return gx_docs_index(Path(project_dir))


def build_gx_suite(suite: str | Path) -> Any:
    """The whole suite as a GX ExpectationSuite (vocabulary resolved now).

    Raises SuiteError naming the file and entry for an unknown type or kwargs GX rejects.
    """
    return _build(load_suite(suite))


def _build(spec: SuiteSpec) -> Any:
    """GX suite of every entry of the spec, in file order.

    Each GX expectation carries its entry index in `meta`, so results map back to suite entries whatever
    order GX reports them in (it puts expectations that raised first).
    """
    gx = _import_gx()
    classes = _expectation_classes()
    expectations: list[Any] = []
    for index, entry in enumerate(spec.expectations):
        where = f"{spec.path}: expectations[{index}] ({entry.type})"
        cls = classes.get(entry.type)
        if cls is None:
            raise SuiteError(f"{where}: unknown expectation type {entry.type!r} (not in gx.expectations)")
        kwargs = _resolved_kwargs(spec, index)
        try:
            expectation = cls(**kwargs, notes=entry.notes, meta={_META_KEY: index})
        except Exception as exc:  # pydantic validation errors: bad or missing kwargs
            raise SuiteError(f"{where}: GX rejects kwargs {kwargs!r}: {exc}") from exc
        expectations.append(expectation)
    return gx.ExpectationSuite(name=spec.name, expectations=expectations, meta={"source": spec.path.name,
                                                                            "description": spec.description})


def _result_format(frame: pandas.DataFrame) -> dict[str, Any]:
    if ROW_COLUMN in frame.columns:
        return {**_RESULT_FORMAT, "unexpected_index_column_names": [ROW_COLUMN]}
    return dict(_RESULT_FORMAT)


def validate_frame(suite: str | Path, frame: pandas.DataFrame, store: Path | None = None,
                   run_name: str | None = None) -> ValidationReport:
    """Run the source's suite (`sources/<suite>/expectations.json`, or that file) over `frame` (one
    batch) and report every expectation's verdict.

    With `store` (a folder: the GX context lives in `store/gx/`), GX stores the suite and the result
    and updates its Data Docs; `run_name` names the run there (a load id). Without it, nothing is stored.

    Never raises for bad data: failures are in the report. Raises SuiteError for a missing or malformed
    suite file. An expectation on a column the frame lacks is skipped when the entry says
    `skip_if_column_missing`, otherwise it fails with `error` naming the column.
    """
    spec = load_suite(suite)
    columns = {str(c) for c in frame.columns}
    skipped = [i for i, e in enumerate(spec.expectations)
               if e.column is not None and e.column not in columns and e.skip_if_column_missing]
    absent = {i for i, e in enumerate(spec.expectations)
              if e.column is not None and e.column not in columns and not e.skip_if_column_missing}
    gx_suite = _build(spec)
    gx_frame = _needed_columns(spec, frame)
    optional_absent = sorted({str(spec.expectations[i].column) for i in skipped})
    if optional_absent:  # all-null: GX's map expectations pass vacuously; the report lists them as skipped
        gx_frame = gx_frame.assign(**{name: None for name in optional_absent}).astype(
            {name: "object" for name in optional_absent})

    docs_page = result_id = None
    with _lock, warnings.catch_warnings():
        # pandas warns when a regex has capture groups (GX uses str.contains); groups are harmless here.
        warnings.filterwarnings("ignore", message="This pattern is interpreted as a regular expression")
        if store is None:
            batch = _context().batch_definition.get_batch(batch_parameters={"dataframe": gx_frame})
            result = batch.validate(gx_suite, result_format=_result_format(frame))
        else:
            result, identifier, docs_page = _run_checkpoint(Path(store), gx_suite, gx_frame, _result_format(frame),
                                                            run_name or spec.name)
            result_id = str(identifier)

    outcomes: dict[int, ExpectationOutcome] = {}
    for res in result.results:
        index = (res.expectation_config.meta or {}).get(_META_KEY)
        if not isinstance(index, int):  # pragma: no cover - GX dropped our meta
            raise RuntimeError(f"GX result without a usable {_META_KEY} meta: {res.expectation_config}")
        if index in absent:
            outcomes[index] = _outcome_for_absent_column(spec.expectations[index])
        elif index not in skipped:
            outcomes[index] = _outcome(spec.expectations[index], res)
    if len(outcomes) != len(spec.expectations) - len(skipped):  # pragma: no cover - GX lost a result
        raise RuntimeError(f"GX returned {len(result.results)} results for {len(spec.expectations)} expectations")

    ordered = [outcomes[i] for i in sorted(outcomes)]
    failed = sum(1 for o in ordered if not o.success)
    return ValidationReport(
        suite=spec.name,
        success=failed == 0,
        evaluated=len(ordered),
        failed=failed,
        outcomes=ordered,
        skipped=[_label(spec.expectations[i].type, spec.expectations[i].column) for i in skipped],
        docs_page=docs_page,
        result_id=result_id,
    )


# Table-level expectations whose verdict does not change when the frame loses a column no entry names.
_SUBSET_SAFE = {"expect_table_row_count_to_be_between", "expect_table_row_count_to_equal"}


def _needed_columns(spec: SuiteSpec, frame: pandas.DataFrame) -> pandas.DataFrame:
    """`frame` restricted to the columns the suite reads (its entries' `column`, the column set it
    requires, and row_number), when every table-level entry judges the same on the subset: GX's
    cost (it fingerprints the whole frame, and filters whole rows per expectation) grows with the
    columns it is given, and a contract frame carries columns no expectation reads."""
    needed = {ROW_COLUMN}
    for entry in spec.expectations:
        if entry.column is not None:
            needed.add(entry.column)
        elif entry.type == "expect_table_columns_to_match_set" and entry.kwargs.get("exact_match") is False:
            needed.update(str(c) for c in entry.kwargs.get("column_set") or [])
        elif entry.type not in _SUBSET_SAFE:
            return frame  # e.g. an exact column set or a column count: GX judges the whole frame
    kept = [c for c in frame.columns if c in needed]
    return frame if len(kept) == len(frame.columns) else frame[kept]


def _run_checkpoint(store: Path, gx_suite: Any, frame: pandas.DataFrame, result_format: dict[str, Any],
                    run_name: str) -> tuple[Any, Any, str | None]:
    """Validate through a GX Checkpoint of the file context: the suite and the result are stored by GX,
    Data Docs updated. Returns (the suite's validation result, its identifier, its Data Docs page)."""
    gx = _import_gx()
    from great_expectations.checkpoint import UpdateDataDocsAction
    from great_expectations.core.run_identifier import RunIdentifier

    context = _file_context(store)
    source = context.data_sources.get(_DATASOURCE)
    name = gx_suite.name
    try:
        asset = source.get_asset(name)
    except Exception:  # LookupError flavours
        asset = source.add_dataframe_asset(name=name)
    try:
        batch_definition = asset.get_batch_definition(_BATCH)
    except Exception:
        batch_definition = asset.add_batch_definition_whole_dataframe(_BATCH)
    suite = context.suites.add_or_update(gx_suite)
    definition = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=name, data=batch_definition, suite=suite))
    checkpoint = context.checkpoints.add_or_update(gx.Checkpoint(
        name=name, validation_definitions=[definition], actions=[UpdateDataDocsAction(name="update_data_docs")],
        result_format=result_format))
    run = checkpoint.run(batch_parameters={"dataframe": frame}, run_id=RunIdentifier(run_name=run_name))
    ((identifier, result),) = run.run_results.items()
    urls = context.get_docs_sites_urls(resource_identifier=identifier)
    page = None
    if urls and urls[0].get("site_url"):
        from urllib.parse import unquote, urlparse

        page = unquote(urlparse(urls[0]["site_url"]).path)
    return result, identifier, page


def _outcome_for_absent_column(entry: ExpectationSpec) -> ExpectationOutcome:
    return ExpectationOutcome(
        expectation=entry.type,
        column=entry.column,
        success=False,
        unexpected_count=0,
        unexpected_examples=[],
        notes=entry.notes,
        error=f"{_ABSENT_COLUMN} {entry.column!r}",
    )


def _outcome(entry: ExpectationSpec, res: Any) -> ExpectationOutcome:
    error = _exception_message(res.exception_info)
    result: dict[str, Any] = dict(res.result or {})
    success = bool(res.success) and error is None
    examples: list[str] = []
    rows: list[int] = []
    count = 0
    if not success and error is None:
        if "unexpected_count" in result:  # column-map expectations
            count = int(result["unexpected_count"] or 0)
            rows = _map_rows(result)
            examples = _map_examples(result, rows)
        else:  # table-level expectations
            mismatched = (result.get("details") or {}).get("mismatched") or {}
            missing = [str(c) for c in mismatched.get("missing", [])]
            observed = f"observed {_text(result.get('observed_value'))}"
            examples = [f"missing {c}" for c in missing] or [observed]
            count = len(missing) or 1
    return ExpectationOutcome(
        expectation=entry.type,
        column=entry.column,
        success=success,
        unexpected_count=count,
        unexpected_examples=examples,
        notes=entry.notes,
        error=error,
        unexpected_rows=rows,
    )


def _map_rows(result: dict[str, Any]) -> list[int]:
    """The source rows GX names (with `unexpected_index_column_names`: dicts holding row_number)."""
    rows: list[int] = []
    for item in result.get("partial_unexpected_index_list") or []:
        if isinstance(item, dict) and item.get(ROW_COLUMN) is not None:
            rows.append(int(item[ROW_COLUMN]))
    return rows


def _map_examples(result: dict[str, Any], rows: list[int]) -> list[str]:
    values = [item.get("value") for item in result.get("partial_unexpected_counts") or []]
    if not values:
        values = list(dict.fromkeys(_text(v) for v in result.get("partial_unexpected_list") or []))
    if values and all(v is None for v in values):  # not-null failures: the value says nothing, the row does
        if rows:
            return [f"null at row {r}" for r in rows[:_MAX_EXAMPLES]]
        indices = result.get("partial_unexpected_index_list") or []
        return [f"null at index {i}" for i in indices[:_MAX_EXAMPLES]] or ["null"]
    return [_text(v) for v in values[:_MAX_EXAMPLES]]


def _text(value: Any) -> str:
    return "null" if value is None else str(value)


def _exception_message(info: Any) -> str | None:
    """GX gives either a flat {raised_exception, exception_message} or one such dict per failed metric."""
    if not info:
        return None
    if isinstance(info, dict) and "raised_exception" in info:
        return str(info.get("exception_message")) if info.get("raised_exception") else None
    if isinstance(info, dict):
        messages = [
            str(v.get("exception_message")) for v in info.values() if isinstance(v, dict) and v.get("raised_exception")
        ]
        return "; ".join(dict.fromkeys(messages)) or None
    return None
