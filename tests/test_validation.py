"""Great Expectations suites over ingested batches (registry/ingest/validation.py, sources/*/expectations.json)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from registry.core import settings, vocabulary
from registry.core.settings import REPO_ROOT
from registry.ingest import validation
from registry.ingest.spec import spec_names
from registry.ingest.validation import ExpectationOutcome, SuiteError, ValidationReport, validate_frame

EVENT_COLUMNS = [
    "uscc",
    "firm_name",
    "event_type",
    "action",
    "level",
    "effective_date",
    "published_date",
    "document_ref",
    "program",
    "amount",
    "fiscal_year",
    "revenue",
    "profit",
    "wages",
]
FIRM_COLUMNS = ["uscc", "firm_name", "division_code", "industry_code", "registered_date"]

_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc(body: str) -> str:
    """A well-formed USCC: the 17-character body plus its GB 32100 check character."""
    assert len(body) == 17
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(body, _USCC_WEIGHTS, strict=True))
    return body + _USCC_CHARS[(31 - total % 31) % 31]


FIRM_A = uscc("91350203MA2Y0B123")
FIRM_B = uscc("91350206MA31K9P0X")
FIRM_C = uscc("12350200488765432")


def frame(rows: list[dict[str, str | None]], columns: list[str]) -> pd.DataFrame:
    """Like the CSV reader: every column text (object dtype), empty cells None."""
    return pd.DataFrame([{c: row.get(c) for c in columns} for row in rows], columns=columns, dtype=object)


def good_events() -> list[dict[str, str | None]]:
    return [
        {
            "uscc": FIRM_A,
            "firm_name": "厦门甲科技有限公司",
            "event_type": "little_giant",
            "action": "granted",
            "level": "national",
            "effective_date": "2024-07-01",
            "published_date": "2024-07-10",
            "document_ref": "工信部企业函〔2024〕1号",
        },
        {
            "uscc": FIRM_B,
            "firm_name": "厦门乙制造有限公司",
            "event_type": "provincial_grant",
            "action": "granted",
            "level": None,  # level may be empty
            "effective_date": "2024-09-30",
            "program": "专精特新奖励",
            "amount": "300000.00",
        },
        {
            "uscc": FIRM_C,
            "firm_name": "厦门丙服务中心",
            "event_type": "annual_report",
            "action": "granted",
            "effective_date": "2024-12-31",
            "fiscal_year": "2024",
            "revenue": "25000000",
            "profit": "-120000.50",
            "wages": "3400000",
        },
    ]


def good_firms() -> list[dict[str, str | None]]:
    return [
        {
            "uscc": FIRM_A,
            "firm_name": "厦门甲科技有限公司",
            "division_code": "350203",
            "industry_code": "C3461",
            "registered_date": "2016-03-01",
        },
        {
            "uscc": FIRM_B,
            "firm_name": "厦门乙制造有限公司",
            "division_code": "350206",
            "industry_code": "M7320",
            "registered_date": None,
        },
        {
            "uscc": FIRM_C,
            "firm_name": "厦门丙服务中心",
            "division_code": "350200",
            "industry_code": "I6513",
            "registered_date": "2010-11-11",
        },
    ]


def outcome(report: ValidationReport, expectation: str, column: str | None) -> ExpectationOutcome:
    found = [o for o in report.outcomes if o.expectation == expectation and o.column == column]
    assert len(found) == 1, f"expected one {expectation} on {column}, got {found}"
    return found[0]


def failed_keys(report: ValidationReport) -> set[tuple[str, str | None]]:
    return {(o.expectation, o.column) for o in report.outcomes if not o.success}


# ------------------------------------------------------------------------------------------------ events


def test_good_events_pass() -> None:
    report = validate_frame("events", frame(good_events(), EVENT_COLUMNS))
    assert report.success, report.summary()
    assert report.failed == 0
    assert report.skipped == []
    assert report.evaluated == len(validation.load_suite("events").expectations)
    assert all(o.success and o.unexpected_count == 0 and o.error is None for o in report.outcomes)
    assert report.summary() == f"GX suite events: {report.evaluated}/{report.evaluated} passed"


def test_bad_event_type_fails_naming_column_and_example() -> None:
    rows = good_events()
    rows[1]["event_type"] = "little_gaint"
    report = validate_frame("events", frame(rows, EVENT_COLUMNS))

    assert not report.success
    assert failed_keys(report) == {("expect_column_values_to_be_in_set", "event_type")}
    bad = outcome(report, "expect_column_values_to_be_in_set", "event_type")
    assert bad.unexpected_count == 1
    assert bad.unexpected_examples == ["little_gaint"]
    assert bad.notes and "vocabulary" in bad.notes
    assert report.failed == 1 and report.evaluated == len(report.outcomes)
    assert "event_type in set (1 row: little_gaint)" in report.summary()


def test_bad_uscc_pattern_fails() -> None:
    rows = good_events()
    rows[0]["uscc"] = "91350203MA2Y0B12"  # 16 characters
    rows[2]["uscc"] = "91350203MA2O0B1234"  # the letter O is not a USCC character
    report = validate_frame("events", frame(rows, EVENT_COLUMNS))

    assert failed_keys(report) == {("expect_column_values_to_match_regex", "uscc")}
    bad = outcome(report, "expect_column_values_to_match_regex", "uscc")
    assert bad.unexpected_count == 2
    assert sorted(bad.unexpected_examples) == ["91350203MA2O0B1234", "91350203MA2Y0B12"]
    assert outcome(report, "expect_column_values_to_not_be_null", "uscc").success


def test_null_uscc_fails_not_null_only() -> None:
    rows = good_events()
    rows[1]["uscc"] = None
    report = validate_frame("events", frame(rows, EVENT_COLUMNS))
    assert failed_keys(report) == {("expect_column_values_to_not_be_null", "uscc")}
    bad = outcome(report, "expect_column_values_to_not_be_null", "uscc")
    assert bad.unexpected_count == 1
    assert bad.unexpected_examples == ["null at index 1"]


def test_missing_required_column_fails_clearly() -> None:
    columns = [c for c in EVENT_COLUMNS if c != "action"]
    report = validate_frame("events", frame(good_events(), columns))

    assert not report.success
    table = outcome(report, "expect_table_columns_to_match_set", None)
    assert not table.success
    assert table.unexpected_examples == ["missing action"]
    assert table.unexpected_count == 1
    # the per-column checks on `action` are reported as failed (not run), not dropped
    for kind in ("expect_column_values_to_not_be_null", "expect_column_values_to_be_in_set"):
        absent = outcome(report, kind, "action")
        assert not absent.success
        assert absent.error is not None and "'action'" in absent.error
    assert failed_keys(report) == {
        ("expect_table_columns_to_match_set", None),
        ("expect_column_values_to_not_be_null", "action"),
        ("expect_column_values_to_be_in_set", "action"),
    }
    spec = validation.load_suite("events")
    assert [(o.expectation, o.column) for o in report.outcomes] == [(e.type, e.column) for e in spec.expectations], (
        "outcomes must be in suite-file order"
    )
    summary = report.summary()
    assert "table columns match set (missing action)" in summary
    assert "not run, column absent: action" in summary


def test_optional_columns_may_be_absent_but_are_listed_as_skipped() -> None:
    columns = ["uscc", "firm_name", "event_type", "action", "level", "effective_date", "amount"]
    report = validate_frame("events", frame(good_events(), columns))
    assert report.success, report.summary()
    assert sorted(report.skipped) == [
        "fiscal_year match regex",
        "profit match regex",
        "published_date match regex",
        "revenue match regex",
        "wages match regex",
    ]
    assert report.evaluated == len(validation.load_suite("events").expectations) - 5
    assert "5 skipped" in report.summary()


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("amount", "-5"),
        ("amount", "1,000.00"),
        ("amount", "1e5"),
        ("effective_date", "2024/07/01"),
        ("level", "county"),
        ("action", "approved"),
        ("fiscal_year", "24"),
        ("wages", "-1"),
    ],
)
def test_contract_violations_are_caught(column: str, value: str) -> None:
    rows = good_events()
    rows[1][column] = value
    report = validate_frame("events", frame(rows, EVENT_COLUMNS))
    failed = [o for o in report.outcomes if not o.success]
    assert [o.column for o in failed] == [column]
    assert failed[0].unexpected_examples == [value]


def test_negative_profit_and_empty_optional_values_are_fine() -> None:
    rows = good_events()
    rows[2]["profit"] = "-1"
    rows[0]["amount"] = None
    report = validate_frame("events", frame(rows, EVENT_COLUMNS))
    assert report.success, report.summary()


def test_empty_batch_fails_row_count() -> None:
    report = validate_frame("events", frame([], EVENT_COLUMNS))
    assert failed_keys(report) == {("expect_table_row_count_to_be_between", None)}
    assert outcome(report, "expect_table_row_count_to_be_between", None).unexpected_examples == ["observed 0"]


def test_report_json_is_deterministic_and_complete() -> None:
    rows = good_events()
    rows[0]["event_type"] = "bogus"
    first = validate_frame("events", frame(rows, EVENT_COLUMNS))
    second = validate_frame("events", frame(rows, EVENT_COLUMNS))
    assert first.to_json() == second.to_json()
    data = json.loads(first.to_json())
    assert list(data) == sorted(data)
    assert data["suite"] == "events" and data["success"] is False and data["failed"] == 1
    assert [o["expectation"] for o in data["outcomes"]] == [o.expectation for o in first.outcomes]
    assert {"column", "error", "expectation", "notes", "success", "unexpected_count"} < set(data["outcomes"][0])
    assert "bogus" in first.to_json()


# ------------------------------------------------------------------------------------------------- firms


def test_good_firms_pass() -> None:
    report = validate_frame("firms", frame(good_firms(), FIRM_COLUMNS))
    assert report.success, report.summary()
    assert report.evaluated == len(validation.load_suite("firms").expectations)


def test_firms_duplicated_uscc_fails() -> None:
    rows = [*good_firms(), dict(good_firms()[0], firm_name="厦门甲科技有限公司（重复）")]
    report = validate_frame("firms", frame(rows, FIRM_COLUMNS))
    assert failed_keys(report) == {("expect_column_values_to_be_unique", "uscc")}
    dup = outcome(report, "expect_column_values_to_be_unique", "uscc")
    assert dup.unexpected_count == 2
    assert dup.unexpected_examples == [FIRM_A]


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("division_code", "35020"),
        ("division_code", "35020A"),
        ("industry_code", "C34611"),
        ("industry_code", "Z3461"),
        ("industry_code", "c3461"),
        ("registered_date", "20160301"),
    ],
)
def test_firm_code_shapes(column: str, value: str) -> None:
    rows = good_firms()
    rows[0][column] = value
    report = validate_frame("firms", frame(rows, FIRM_COLUMNS))
    assert failed_keys(report) == {("expect_column_values_to_match_regex", column)}


def test_firm_without_name_or_industry_fails() -> None:
    rows = good_firms()
    rows[1]["firm_name"] = None
    rows[2]["industry_code"] = None
    report = validate_frame("firms", frame(rows, FIRM_COLUMNS))
    assert failed_keys(report) == {
        ("expect_column_values_to_not_be_null", "firm_name"),
        ("expect_column_values_to_not_be_null", "industry_code"),
    }


# ------------------------------------------------------------------------------------------- suite files


def test_every_suite_file_loads_and_resolves() -> None:
    names = validation.suite_names()
    assert {"events", "firms"} <= set(names)
    assert names == sorted(p.parent.name for p in settings.DEFAULT_SOURCES_DIR.glob(f"*/{settings.SUITE_FILE}"))
    assert names == spec_names()  # every source has its suite, and every suite is a source's
    for name in names:
        spec = validation.load_suite(name)
        assert spec.description
        gx_suite = validation.build_gx_suite(name)
        assert [e.expectation_type for e in gx_suite.expectations] == [e.type for e in spec.expectations]


def test_vocabulary_reference_resolves_to_registry_vocabulary() -> None:
    gx_suite = validation.build_gx_suite("events")
    value_sets = {
        e.column: sorted(e.value_set)
        for e in gx_suite.expectations
        if e.expectation_type == "expect_column_values_to_be_in_set"
    }
    assert value_sets == {
        "event_type": sorted(vocabulary.EVENT_TYPE_NAMES),
        "action": sorted(vocabulary.ACTIONS),
        "level": sorted(vocabulary.LEVELS),
    }


def test_new_vocabulary_entry_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = good_events()
    rows[0]["event_type"] = "green_factory"
    before = validate_frame("events", frame(rows, EVENT_COLUMNS))
    assert failed_keys(before) == {("expect_column_values_to_be_in_set", "event_type")}

    monkeypatch.setattr(vocabulary, "EVENT_TYPE_NAMES", vocabulary.EVENT_TYPE_NAMES | {"green_factory"})
    after = validate_frame("events", frame(rows, EVENT_COLUMNS))
    assert after.success, after.summary()


def _write_suite(directory: Path, name: str, entries: list[dict[str, object]]) -> None:
    body = {"suite": name, "description": "test", "expectations": entries}
    (directory / name).mkdir()
    (directory / name / settings.SUITE_FILE).write_text(json.dumps(body), encoding="utf-8")


def test_gx_is_given_only_the_columns_the_suite_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """GX's cost grows with the frame's columns: it gets the ones the suite names (plus row_number),
    unless a table-level entry judges the whole frame (an exact column set): then every column."""
    events = frame(good_events(), EVENT_COLUMNS).assign(row_number=range(2, 2 + len(good_events())))
    kept = validation._needed_columns(validation.load_suite("events"), events)
    assert "document_ref" not in kept.columns and "program" not in kept.columns
    assert {"row_number", "uscc", "firm_name", "wages"} <= set(kept.columns)
    monkeypatch.setenv(settings.SOURCES_DIR_ENV, str(tmp_path))
    exact = [{"type": "expect_table_columns_to_match_set",
              "kwargs": {"column_set": [*EVENT_COLUMNS, "row_number"], "exact_match": True}},
             {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "uscc"}}]
    _write_suite(tmp_path, "exact", exact)
    noted = events.assign(note="x")  # a column no entry names: the exact set must see it, and fail
    assert list(validation._needed_columns(validation.load_suite("exact"), noted).columns) == list(noted.columns)
    assert not validate_frame("exact", noted).success
    assert validate_frame("exact", events).success


def test_unknown_expectation_type_names_file_and_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(settings.SOURCES_DIR_ENV, str(tmp_path))
    _write_suite(
        tmp_path,
        "broken",
        [
            {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "uscc"}},
            {"type": "expect_column_values_to_be_purple", "kwargs": {"column": "uscc"}},
        ],
    )
    with pytest.raises(SuiteError, match=r"broken/expectations\.json: expectations\[1\].*to_be_purple"):
        validate_frame("broken", frame(good_firms(), FIRM_COLUMNS))
    with pytest.raises(SuiteError, match=r"broken/expectations\.json"):
        validation.build_gx_suite("broken")


def test_bad_kwargs_and_unknown_vocabulary_name_the_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(settings.SOURCES_DIR_ENV, str(tmp_path))
    _write_suite(tmp_path, "nocolumn", [{"type": "expect_column_values_to_not_be_null", "kwargs": {}}])
    with pytest.raises(SuiteError, match=r"nocolumn/expectations\.json: expectations\[0\]"):
        validation.build_gx_suite("nocolumn")
    _write_suite(
        tmp_path,
        "novocab",
        [
            {
                "type": "expect_column_values_to_be_in_set",
                "kwargs": {"column": "level", "value_set": "@vocabulary.colours"},
            }
        ],
    )
    with pytest.raises(SuiteError, match=r"novocab/expectations\.json: expectations\[0\].*@vocabulary\.colours"):
        validation.build_gx_suite("novocab")
    _write_suite(tmp_path, "typo", [{"typ": "expect_column_values_to_not_be_null"}])
    with pytest.raises(SuiteError, match=r"typo/expectations\.json: expectations\[0\]: unknown keys \['typ'\]"):
        validation.load_suite("typo")


def test_missing_suite_file_is_a_value_error() -> None:
    with pytest.raises(SuiteError, match=r"no_such_suite/expectations\.json does not exist"):
        validate_frame("no_such_suite", frame(good_firms(), FIRM_COLUMNS))


# ----------------------------------------------------------------------------------- import and quietness


@pytest.mark.slow  # fresh interpreters importing GX and pyspark
def test_module_import_does_not_import_gx_and_validation_is_quiet() -> None:
    """DAG files import registry modules: no GX at import; and a host logging DEBUG to stdout sees nothing."""
    script = """
import logging, sys
logging.basicConfig(level=logging.DEBUG, stream=sys.stdout)
import registry.ingest.validation as v
assert "great_expectations" not in sys.modules, "GX imported at module import"
import pandas as pd
report = v.validate_frame("firms", pd.DataFrame({"uscc": ["x"]}, dtype=object))
print("RESULT", report.success)
"""
    env = {k: val for k, val in os.environ.items() if k != "GX_ANALYTICS_ENABLED"}
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines() == ["RESULT False"], done.stdout[:2000]
    assert "Calculating Metrics" not in done.stderr
    assert "great_expectations" not in done.stderr, done.stderr[:2000]


def test_gx_imported_in_the_background_is_the_gx_a_validation_uses() -> None:
    """A load starts GX's import on a thread while DuckDB reads the file: started once, joined by
    the first validation, with the same quiet import (no scipy, no log chatter) as on the caller's
    thread."""
    script = """
import logging, sys, threading
logging.basicConfig(level=logging.DEBUG, stream=sys.stdout)
import pandas as pd
import registry.ingest.validation as v
v.import_in_background(); v.import_in_background()
assert len(v._importing) == 1 and v._importing[0].daemon
report = v.validate_frame("firms", pd.DataFrame({"uscc": ["x"]}, dtype=object))
assert not v._importing[0].is_alive()
assert "scipy" not in sys.modules and "scipy.stats" not in sys.modules, "scipy imported with GX"
v.import_in_background()
assert len(v._importing) == 1
print("RESULT", report.success, report.evaluated > 0)
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines() == ["RESULT False True"], done.stdout[:2000]
    assert "great_expectations" not in done.stderr, done.stderr[:2000]


def test_scipy_is_imported_only_when_an_expectation_uses_it() -> None:
    """GX imports scipy.stats for distribution expectations no suite uses (0.8 s of every ingest
    process): it stays unimported through a validation, and is imported for real on first use."""
    script = """
import sys
import pandas as pd
import registry.ingest.validation as v
v.validate_frame("firms", pd.DataFrame({"uscc": ["x"]}, dtype=object))
assert "scipy" not in sys.modules and "scipy.stats" not in sys.modules, "scipy imported with GX"
from great_expectations.expectations.core import expect_column_kl_divergence_to_be_less_than as kl
print("ENTROPY", round(kl.stats.entropy([0.5, 0.5]), 6), "scipy.stats" in sys.modules)
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "ENTROPY 0.693147 True"


def test_data_docs_pages_from_the_shared_template_code_are_the_pages_jinja_compiles(tmp_path: Path) -> None:
    """GX makes a new Jinja environment per view; the process keeps the compiled templates
    (validation._share_template_code). A page rendered from the kept code is the page rendered
    from freshly compiled templates, but for the run's name and times."""
    events = frame([*good_events(), {**good_events()[0], "event_type": "bogus"}], EVENT_COLUMNS)
    events = events.assign(row_number=range(2, 2 + len(events)))
    validation._TEMPLATE_CODE.clear()
    pages = []
    for run in ("run-compiling-0", "run-kept-1"):
        before = dict(validation._TEMPLATE_CODE)
        report = validate_frame("events", events, tmp_path, run_name=run)
        assert not report.success and report.docs_page
        page = Path(report.docs_page).read_text(encoding="utf-8")
        assert "values must belong to this set" in page and "Unsuccessful Expectations" in page
        pages.append(re.sub(r"\d{8}T\d{6}\.\d+Z|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "TIME", page.replace(run, "RUN")))
        if run == "run-compiling-0":
            assert not before and validation._TEMPLATE_CODE, "the first page compiles and keeps the templates"
        else:
            assert before == validation._TEMPLATE_CODE, "the second page compiles nothing"
    assert pages[0] == pages[1]


def test_the_data_docs_home_page_lists_the_newest_validations_and_every_page_stays(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """GX rebuilds the home page on every load from every stored result (a cost growing with the
    loads ever made): it lists the newest DOCS_INDEX_VALIDATIONS, and every load keeps its page."""
    monkeypatch.setattr(validation, "DOCS_INDEX_VALIDATIONS", 2)
    events = frame(good_events(), EVENT_COLUMNS).assign(row_number=range(2, 2 + len(good_events())))
    pages = [validate_frame("events", events, tmp_path, run_name=f"load-{n}").docs_page for n in range(3)]
    assert all(page and Path(page).is_file() for page in pages)
    home = validation.gx_docs_index(tmp_path).read_text(encoding="utf-8")
    assert sorted(set(re.findall(r"load-\d", home))) == ["load-1", "load-2"]
    config = (tmp_path / "gx" / "great_expectations.yml").read_text(encoding="utf-8")
    assert "validation_results_limit: 2" in config
