"""The benchmark never rots: the synthetic generator is deterministic and valid, and a small
benchmark run (a few thousand events) goes through every step and reports consistent fields.

No timing is asserted anywhere: timings on a shared two-core machine are noise at this size.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from bench.synthetic import CATALOG_DIVISIONS, DIVISIONS, INDUSTRIES, generate
from registry.core import settings
from registry.core.contracts import EVENTS, FIRMS
from registry.core.uscc import is_valid_uscc, make_uscc
from registry.core.vocabulary import ACTIONS, EVENT_TYPE_NAMES, LEVELS

pytestmark = pytest.mark.slow  # the benchmark harness end to end

FILES = ("firms.csv", "events.csv", "events_night.csv", "hitech_list.csv")


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synthetic") / "a"
    generate(out, firms=3_000, events=15_000, night_events=300, seed=7)
    return out


def rows(path: Path, encoding: str = "utf-8") -> list[dict[str, str]]:
    with path.open(encoding=encoding, newline="") as handle:
        return list(csv.DictReader(handle))


def test_same_seed_gives_byte_identical_files(small: Path, tmp_path: Path) -> None:
    again = generate(tmp_path / "b", firms=3_000, events=15_000, night_events=300, seed=7)
    for name in FILES:
        assert (small / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    other = generate(tmp_path / "c", firms=3_000, events=15_000, night_events=300, seed=8)
    assert other.files["events.csv"] != again.files["events.csv"]


def test_files_follow_the_contracts_with_the_sizes_asked(small: Path) -> None:
    firms, events, night = rows(small / "firms.csv"), rows(small / "events.csv"), rows(small / "events_night.csv")
    assert (len(firms), len(events), len(night)) == (3_000, 15_000, 300)
    assert list(firms[0]) == list(FIRMS.field_names)
    assert list(events[0]) == list(EVENTS.field_names) == list(night[0])
    for row in events + night:
        assert row["event_type"] in EVENT_TYPE_NAMES and row["action"] in ACTIONS
        assert row["level"] == "" or row["level"] in LEVELS
        dt.date.fromisoformat(row["effective_date"])
        assert row["published_date"] == "" or row["published_date"] >= row["effective_date"]
    assert {r["effective_date"] for r in night} == {"2026-11-02"}
    for row in events + night:  # every row lands: the contract's own parsers and cross-field rules
        parsed = {f.name: f.parse(row[f.name]) if row[f.name] else None for f in EVENTS.fields}
        assert not EVENTS.row_rules(parsed), row
    assert max(r["published_date"] or r["effective_date"] for r in events) <= "2026-11-01"


def test_usccs_are_valid_and_spread_over_real_divisions(small: Path) -> None:
    firms = rows(small / "firms.csv")
    real = {code for code, _, _ in DIVISIONS + CATALOG_DIVISIONS}
    industries = {code for code, _, _ in INDUSTRIES}
    for serial, firm in enumerate(firms):
        assert firm["uscc"] == make_uscc(firm["division_code"], serial)  # same codes as make_uscc
        assert is_valid_uscc(firm["uscc"]) and firm["division_code"] in real
        assert firm["industry_code"] in industries
    assert len({f["uscc"] for f in firms}) == len(firms)
    assert len({f["division_code"] for f in firms}) > 40
    known = {f["uscc"] for f in firms}
    assert all(r["uscc"] in known for r in rows(small / "events.csv"))


def test_histories_have_the_national_mix_and_the_hard_cases(small: Path) -> None:
    events = rows(small / "events.csv")
    holders = {t: {r["uscc"] for r in events if r["event_type"] == t and r["action"] == "granted"}
               for t in ("hitech", "scale_up", "srdi_provincial", "little_giant")}
    n = 3_000
    assert 0.35 * n < len(holders["hitech"]) < 0.6 * n  # 50万 / 1M, less those whose grant is history
    assert 0.35 * n < len(holders["scale_up"]) < 0.6 * n
    assert 0.08 * n < len(holders["srdi_provincial"]) < 0.2 * n
    assert len(holders["little_giant"]) < 0.03 * n
    actions = {(r["event_type"], r["action"]) for r in events}
    for case in [("hitech", "renewed"), ("hitech", "expired"), ("hitech", "revoked"), ("scale_up", "expired")]:
        assert case in actions, case
    assert any(r["action"] == "retracted" for r in events) or n < 5_000
    regranted = {r["uscc"] for r in events if r["event_type"] == "hitech" and r["action"] == "granted"}
    assert len([r for r in events if r["event_type"] == "hitech" and r["action"] == "granted"]) > len(regranted)
    grants = [r for r in events if r["event_type"] == "provincial_grant"]
    assert grants and all(Decimal(r["amount"]) > 0 and r["program"] == "little_giant" for r in grants)


def test_the_published_list_form(small: Path) -> None:
    listed = rows(small / "hitech_list.csv", encoding="gb18030")  # as the agency's Excel saves it
    assert list(listed[0]) == ["序号", "企业名称", "统一社会信用代码", "证书编号", "发证日期", "认定类型"]
    assert all(is_valid_uscc(r["统一社会信用代码"]) for r in listed)
    assert all(re.fullmatch(r"GR20\d{2}\d{2}\d{6}", r["证书编号"]) for r in listed)  # GR + year + province + serial
    assert [int(r["序号"]) for r in listed] == list(range(1, len(listed) + 1))
    action = {"新认定": "granted", "重新认定": "renewed"}
    hitech = {(r["uscc"], r["effective_date"], r["action"]) for r in rows(small / "events.csv")
              if r["event_type"] == "hitech"}
    assert all((r["统一社会信用代码"], r["发证日期"], action[r["认定类型"]]) in hitech for r in listed)


def test_benchmark_smoke_run(tmp_path: Path) -> None:
    """The whole harness at a few thousand events: every step runs, fields are consistent."""
    results = tmp_path / "results"
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--size", "smoke", "--workdir", str(tmp_path / "work"),
         "--results", str(results), "--deadline-min", "10"],
        cwd=settings.REPO_ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-4000:]
    result = json.loads((results / "smoke.json").read_text(encoding="utf-8"))
    failed = {name: step["error"] for name, step in result["steps"].items() if not step["ok"]}
    assert not failed, failed
    m, r, totals = result["measured"], result["ratios"], result["totals"]
    for key in ("ingest_rows_per_s", "bare_read_rows_per_s", "fast_ingest_rows_per_s", "full_night_s", "floor_s",
                "incremental_night_s", "floor_touched_firms_s", "max_peak_rss_mib"):
        assert isinstance(m[key], int | float) and m[key] > 0, key
    for key in ("ingest_vs_bare_read", "fast_ingest_vs_bare_read", "full_night_vs_floor"):
        assert isinstance(r[key], float) and r[key] > 0, key
    # the smoke run skips the do-nothing build (a third dbt start-up); the field is there, empty
    assert m["noop_dbt_build_s"] is None and r["incremental_vs_noop"] is None
    assert set(result["targets"]) == set(result["target_texts"])
    # the prototype lands exactly the facts the real ingest lands
    assert totals["fast_ingest_lands_the_same_facts"] is True
    # the first list pays what the models say is payable; the floor covers every clause of the catalog
    # (a clause using a feature the floor does not implement is listed, never silently compared) and
    # agrees with the models on each, to the fen, after both nights
    assert Decimal(totals["list_total_first_night"]) == Decimal(totals["model_total"])
    assert totals["not_covered_by_floor"] == [], json.dumps(totals["not_covered_why"], ensure_ascii=False, indent=1)
    assert totals["incremental_not_covered_by_floor"] == []
    assert totals["totals_agree"], json.dumps(totals["disagreements"], ensure_ascii=False, indent=1)
    assert totals["all_clauses_agree"], json.dumps(totals["disagreements"], ensure_ascii=False, indent=1)
    assert Decimal(totals["floor_total"]) == Decimal(totals["model_total"]) > 0
    assert totals["incremental_totals_agree"], "the floor and the models disagree after the incremental night"
    assert totals["incremental_all_clauses_agree"], "a clause disagrees after the incremental night"
    assert (results / "smoke.md").read_text(encoding="utf-8").startswith("### ")


def test_a_feature_the_floor_does_not_implement_is_reported_not_covered() -> None:
    """A new catalog column, an unknown value of a column the floor reads as a choice, an unknown
    repeat key or amount rule, a new policy table naming a clause, a shared cap per anything but firm
    and year: each makes its clause (and its stacking partners) not covered, never silently compared."""
    import duckdb

    from bench.steps import uncovered_features

    con = duckdb.connect()
    con.execute("create schema policy")
    con.execute("create table policy.clauses (clause_id varchar, amount_rule varchar, repeat_per varchar, "
                "stacking_group varchar, related_window varchar, first_time boolean, new_feature integer)")
    con.execute("""insert into policy.clauses values
        ('plain', 'fixed', 'firm', 'g1', null, true, null),
        ('new-column', 'fixed', 'firm', 'g2', null, false, 3),
        ('partner', 'fixed', 'firm', 'g2', null, false, null),
        ('new-window', 'percent_of_related', 'firm', null, 'previous_year', false, null),
        ('new-rule', 'per_square_metre', 'firm', null, null, false, null),
        ('new-repeat', 'fixed', 'quarter', null, null, false, null),
        ('new-table', 'fixed', 'firm', null, null, false, null),
        ('cap-per-quarter', 'fixed', 'firm', null, null, false, null)""")
    con.execute("create table policy.annual_cap_groups (cap_group varchar, clause_id varchar, per varchar)")
    con.execute("insert into policy.annual_cap_groups values ('c', 'plain', 'firm_year'), "
                "('q', 'cap-per-quarter', 'firm_quarter')")
    con.execute("create table policy.clause_floor_areas (clause_id varchar, square_metres integer)")
    con.execute("insert into policy.clause_floor_areas values ('new-table', 100)")
    why = uncovered_features(con)
    assert set(why) == {"new-column", "partner", "new-window", "new-rule", "new-repeat", "new-table",
                        "cap-per-quarter"}
    assert "new_feature" in why["new-column"] and "new-column" in why["partner"]
    assert "related_window=previous_year" in why["new-window"]
    assert "amount_rule=per_square_metre" in why["new-rule"] and "repeat_per=quarter" in why["new-repeat"]
    assert "policy.clause_floor_areas" in why["new-table"] and "firm_quarter" in why["cap-per-quarter"]
