"""Hostile inputs, one test per finding of the review ("nothing wrong lands, nothing is lost"): each
row is quarantined with its file, row, field and reason, or the file is refused naming why, and
`registry sources check` reports exactly what `registry ingest` does."""

from __future__ import annotations

import io
import json
import re
import zipfile
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from conftest import EVENT_HEADER, FIRM_HEADER, edited_source, new_db
from openpyxl import Workbook

from registry.cli import main
from registry.core import settings, vocabulary
from registry.core.uscc import make_uscc
from registry.ingest.check import check_file
from registry.ingest.errors import SpecError
from registry.ingest.land import IngestError, ingest_file, land_source
from registry.ingest.spec import find_spec, load_spec

GRANT_HEADER = ["序号", "企业名称", "统一社会信用代码", "项目名称", "资金级别", "拨付金额（万元）", "拨付日期", "文号"]
FIRM = make_uscc("350102", 4242)
OTHER = make_uscc("350104", 4343)
GRANT = {"uscc": FIRM, "firm_name": "福州测试有限公司", "event_type": "provincial_grant", "action": "granted",
         "level": "provincial", "effective_date": "2026-09-25", "published_date": "2026-09-28",
         "document_ref": "闽财企〔2026〕38号", "program": "little_giant", "amount": "1000000.00"}


def grant(**fields: str) -> dict[str, str]:
    return {**GRANT, **fields}


def rows(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def quarantine(db: Path) -> list[tuple]:
    return rows(db, "select row_number, field, reason from raw.quarantine order by row_number, field")


def checked(source: str, path: Path, db: Path | None = None) -> dict:
    """`registry sources check SOURCE FILE --json` (against `db` when given), as the CLI prints it."""
    out = io.StringIO()
    import contextlib

    args = ["--db", str(db or path.with_suffix(".none.duckdb")), "sources", "check", source, str(path), "--json"]
    with contextlib.redirect_stdout(out):
        assert main(args) == 0
    return json.loads(out.getvalue())


def agrees(result: dict, db: Path, report: object) -> None:
    """The dry run said exactly what the load did: the same rows quarantined with the same reasons."""
    said = sorted((q["row"], q["field"], q["reason"]) for q in result["quarantine"])
    did = sorted(rows(db, "select row_number, field, reason from raw.quarantine"))
    assert said == did
    assert result["would_land"] == report.landed and result["duplicates"] == report.duplicate


# ---------------------------------------------------------------- same key, different fact


def test_a_regrant_with_another_amount_is_a_conflict_naming_both_rows_and_files(tmp_path: Path, write_csv) -> None:
    db = new_db(tmp_path / "r.duckdb")
    first = write_csv("grants_first.csv", EVENT_HEADER, [grant()])
    again = write_csv("grants_again.csv", EVENT_HEADER, [grant(amount="1200000.00")])
    assert ingest_file("events", first, db).landed == 1
    before = checked("events", again, db)
    report = ingest_file("events", again, db)
    assert (report.landed, report.quarantined) == (0, 1)
    ((row, field, reason),) = quarantine(db)
    assert (row, field) == (2, "amount")
    assert "grants_first.csv row 2" in reason and "amount 1200000.00 (landed: 1000000.00)" in reason
    assert "retracted" in reason  # how a genuine correction is sent
    assert rows(db, "select sum(amount) from raw.events") == [(Decimal("1000000.00"),)]
    agrees(before, db, report)


def test_the_same_conflict_inside_one_file_names_the_earlier_row(tmp_path: Path, write_csv) -> None:
    db = new_db(tmp_path / "r.duckdb")
    path = write_csv("grants.csv", EVENT_HEADER, [grant(), grant(amount="1200000.00"), grant()])
    report = ingest_file("events", path, db)
    assert (report.read, report.landed, report.quarantined, report.duplicate) == (3, 1, 1, 1)
    ((row, field, reason),) = quarantine(db)
    assert (row, field) == (3, "amount") and "conflicts with row 2 of grants.csv" in reason
    assert "1000000.00 vs 1200000.00" in reason


def test_a_retraction_plus_the_new_fact_is_a_correction_not_a_conflict(tmp_path: Path, write_csv) -> None:
    db = new_db(tmp_path / "r.duckdb")
    ingest_file("events", write_csv("a.csv", EVENT_HEADER, [grant()]), db)
    correction = write_csv("b.csv", EVENT_HEADER, [
        grant(action="retracted", published_date="2026-10-15", document_ref="闽财企〔2026〕38号（更正）"),
        grant(amount="1200000.00", published_date="2026-10-15")])
    report = ingest_file("events", correction, db)
    assert (report.landed, report.quarantined) == (2, 0) and not report.warnings


def test_one_uscc_twice_in_a_firms_file_is_a_conflict_and_a_later_change_is_reported(tmp_path: Path,
                                                                                      write_csv) -> None:
    db = new_db(tmp_path / "r.duckdb")
    firm = {"uscc": FIRM, "firm_name": "甲", "division_code": "350102", "industry_code": "C3461"}
    report = ingest_file("firms", write_csv("f.csv", FIRM_HEADER, [firm, {**firm, "industry_code": "M7320"}]), db)
    assert (report.landed, report.quarantined) == (1, 1)
    ((row, field, reason),) = quarantine(db)
    assert (row, field) == (3, "industry_code") and "conflicts with row 2 of f.csv" in reason
    moved = ingest_file("firms", write_csv("f2.csv", FIRM_HEADER, [{**firm, "division_code": "350104"}]), db)
    assert moved.landed == 1
    assert any("division_code 350102 -> 350104" in w and "f.csv row 2" in w for w in moved.warnings)


# ---------------------------------------------------------------- every value checked before it lands


@pytest.mark.parametrize(("amount", "reason"), [
    ("1e9", "scientific notation"),
    ("1E+6", "scientific notation"),
    ("12345678901234567.00", "does not fit an amount column (DECIMAL(18, 2)"),
    ("150000000", "implausible for a provincial_grant event (above 100,000,000 yuan"),
])
def test_amounts_that_cannot_be_paid_are_quarantined_and_sources_check_says_so(
        tmp_path: Path, write_csv, amount: str, reason: str) -> None:
    db = new_db(tmp_path / "r.duckdb")
    path = write_csv("g.csv", EVENT_HEADER, [grant(), grant(uscc=OTHER, amount=amount)])
    said = checked("events", path)
    report = ingest_file("events", path, db)
    assert (report.landed, report.quarantined) == (1, 1)
    ((row, field, got),) = quarantine(db)
    assert (row, field) == (3, "amount") and reason in got
    agrees(said, db, report)


def test_a_huge_number_in_an_xlsx_amount_column_is_quarantined_not_a_crash(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.title = "拨付明细"
    sheet.append(["奖补资金拨付明细"])
    sheet.append(GRANT_HEADER)
    sheet.append([1, "甲", FIRM, "专精特新“小巨人”企业奖励", "省级", 100, "2026-09-25", "闽财企〔2026〕38号"])
    sheet.append([2, "乙", OTHER, "专精特新“小巨人”企业奖励", "省级", 1e15, "2026-09-25", "闽财企〔2026〕38号"])
    path = tmp_path / "grant_payments_huge.xlsx"
    book.save(path)
    db = new_db(tmp_path / "r.duckdb")
    report = land_source("grant_payments", path, db)
    assert (report["landed"], report["quarantined"]) == (1, 1)
    ((row, field, reason),) = quarantine(db)
    assert (row, field) == (4, "amount") and "DECIMAL(18, 2)" in reason


def test_a_control_character_in_a_name_never_lands(tmp_path: Path, write_csv) -> None:
    db = new_db(tmp_path / "r.duckdb")
    path = write_csv("g.csv", EVENT_HEADER, [grant(firm_name="福州\x0b测试有限公司")])
    said = checked("events", path)
    report = ingest_file("events", path, db)
    assert (report.landed, report.quarantined) == (0, 1)
    ((row, field, reason),) = quarantine(db)
    assert (row, field) == (2, "firm_name") and "U+000B (LINE TABULATION) at position 3" in reason
    agrees(said, db, report)


@pytest.mark.parametrize(("fields", "field", "reason"), [
    ({"effective_date": "9999-12-31"}, "effective_date", "outside the dates a record can carry"),
    ({"effective_date": "2030-01-01"}, "effective_date", "more than 366 days after today (2026-12-01)"),
    ({"published_date": "2062-11-15"}, "published_date", "is in the future (today is 2026-12-01)"),
    ({"uscc": make_uscc("999999", 1)}, "uscc", "999999 is not a GB/T 2260 administrative division code"),
    ({"uscc": make_uscc("000000", 1)}, "uscc", "000000 is not a GB/T 2260"),
    ({"program": "talent_subsidy"}, "program", "unknown program 'talent_subsidy' for provincial_grant"),
    ({"program": ""}, "program", "needs its program, one of: little_giant（专精特新“小巨人”企业奖励）"),
])
def test_impossible_values_are_quarantined_with_field_and_reason(tmp_path: Path, write_csv, fields: dict,
                                                                 field: str, reason: str) -> None:
    db = new_db(tmp_path / "r.duckdb")
    path = write_csv("g.csv", EVENT_HEADER, [grant(**fields)])
    said = checked("events", path)
    report = ingest_file("events", path, db)
    assert report.quarantined == 1
    ((_, got_field, got),) = quarantine(db)
    assert got_field == field and reason in got
    agrees(said, db, report)


def test_an_unknown_program_names_the_known_ones_and_other_types_take_none(tmp_path: Path, write_csv) -> None:
    db = new_db(tmp_path / "r.duckdb")
    path = write_csv("g.csv", EVENT_HEADER, [
        grant(program="人才补助"),
        {"uscc": FIRM, "event_type": "hitech", "action": "granted", "level": "national",
         "effective_date": "2026-03-18", "program": "little_giant"},
        {"uscc": FIRM, "event_type": "product_security_evaluation", "action": "granted", "level": "national",
         "effective_date": "2026-03-18", "program": "操作系统V1"},
    ])
    report = ingest_file("events", path, db)
    assert (report.landed, report.quarantined) == (1, 2)
    reasons = dict(rows(db, "select row_number, reason from raw.quarantine"))
    assert all(p.name in reasons[2] for p in vocabulary.GRANT_PROGRAMS)  # every known value named
    assert "hitech event takes no program" in reasons[3]


def test_the_program_vocabulary_is_written_beside_the_event_types(tmp_path: Path) -> None:
    db = new_db(tmp_path / "r.duckdb")
    got = set(rows(db, "select event_type, program from reference.programs"))
    assert ("provincial_grant", "little_giant") in got and ("software_ranking", "internet_top100") in got
    assert ("incubator_assessment", "excellent") in got
    assert not {t for t, _ in got} & vocabulary.FREE_TEXT_PROGRAM_TYPES  # a product is free text


@pytest.mark.parametrize(("old", "new", "message"), [
    ("制造业单项冠军企业奖励: single_champion", "制造业单项冠军企业奖励: single_champ",
     r"map programs \(field program\): unknown program 'single_champ'"),
])
def test_a_spec_map_with_an_unknown_program_is_refused_when_it_loads(tmp_path: Path, old: str, new: str,
                                                                      message: str) -> None:
    path = edited_source(tmp_path, "grant_payments", old, new)
    with pytest.raises(SpecError, match=message):
        load_spec(path)
    spec = edited_source(tmp_path, "hitech", "constants:\n", "constants:\n  program: little_giant\n")
    with pytest.raises(SpecError, match=r"constants.program: event type\(s\) hitech take no program"):
        load_spec(spec)


def test_a_firm_whose_uscc_names_another_city_or_an_unreal_division_is_quarantined(tmp_path: Path,
                                                                                   write_csv) -> None:
    db = new_db(tmp_path / "r.duckdb")
    xiamen = make_uscc("350203", 9)
    path = write_csv("f.csv", FIRM_HEADER, [
        {"uscc": FIRM, "firm_name": "甲", "division_code": "350104", "industry_code": "C3461"},  # same city: fine
        {"uscc": xiamen, "firm_name": "乙", "division_code": "350102", "industry_code": "C3461"},
        {"uscc": OTHER, "firm_name": "丙", "division_code": "359999", "industry_code": "C3461"},
    ])
    said = checked("firms", path)
    report = ingest_file("firms", path, db)
    assert (report.landed, report.quarantined) == (1, 2)
    reasons = {(r, f): reason for r, f, reason in quarantine(db)}
    assert "350102 福建省鼓楼区 and the USCC's division 350203 福建省思明区" in reasons[(3, "division_code")]
    assert "359999 is not a GB/T 2260" in reasons[(4, "division_code")]
    agrees(said, db, report)


def test_a_retraction_of_a_fact_that_never_landed_is_reported(tmp_path: Path, write_csv) -> None:
    db = new_db(tmp_path / "r.duckdb")
    path = write_csv("r.csv", EVENT_HEADER, [
        {"uscc": FIRM, "event_type": "hitech", "action": "retracted", "level": "national",
         "effective_date": "2026-03-18", "published_date": "2026-10-08"}])
    said = checked("events", path, db)
    report = ingest_file("events", path, db)
    (warning,) = [w for w in report.warnings if "retracts" in w]
    assert f"row 2 retracts hitech/national of {FIRM} effective 2026-03-18" in warning
    assert "no such fact has landed" in warning and warning in said["warnings"]


# ---------------------------------------------------------------- every physical row accounted for


def physical_csv_rows(path: Path, encoding: str = "utf-8") -> int:
    """Lines after the header line, counted as a text editor counts them."""
    return len(io.StringIO(path.read_bytes().decode(encoding + ("-sig" if encoding == "utf-8" else "")),
                           newline="").readlines()) - 1


def adds_up(report: dict | object, physical: int) -> None:
    r = report if isinstance(report, dict) else report.to_dict()
    assert r["read"] == r["landed"] + r["quarantined"] + r["duplicate"], r
    assert r["read"] + r["blank"] == physical, r


def test_a_last_line_cut_at_a_comma_is_quarantined_not_landed_with_nulls(tmp_path: Path) -> None:
    hitech = "91350102MAE4MK529Q,福州鼓楼智谷信息技术有限公司,hitech,granted,national,2026-03-18,2026-03-25,GR2026"
    path = tmp_path / "events_cut.csv"
    path.write_text(",".join(EVENT_HEADER) + "\n" + hitech + ",,,,,,\n" + hitech.replace("GR2026", "GR2027") + ",",
                    encoding="utf-8")
    db = new_db(tmp_path / "r.duckdb")
    report = ingest_file("events", path, db)
    assert (report.landed, report.quarantined) == (1, 1)
    assert quarantine(db) == [(3, "_row", "row ends after 9 of 14 columns (truncated row?)")]
    adds_up(report, physical_csv_rows(path))


def test_an_unclosed_quote_is_reported_with_every_line_it_swallowed(tmp_path: Path) -> None:
    good = [f"{make_uscc('350102', n)},福州{n}号有限公司,hitech,granted,national,2026-03-18,,GR{n},,,,,,"
            for n in range(4)]
    good[1] = good[1].replace("福州1号", '"福州1号')  # a quote opened, never closed
    text = ",".join(EVENT_HEADER) + "\n" + "\n".join(good) + "\n"
    path = tmp_path / "events_quote.csv"
    path.write_text(text, encoding="utf-8")
    db = new_db(tmp_path / "r.duckdb")
    said = checked("events", path)
    report = ingest_file("events", path, db)
    assert (report.read, report.landed, report.quarantined) == (4, 1, 3)
    got = quarantine(db)
    assert [r for r, _, _ in got] == [3, 4, 5]
    assert "a quote opened on line 3 is never closed: it swallows lines 4-5" in got[0][2]
    assert all("swallowed by the quote opened on line 3" in reason for _, _, reason in got[1:])
    adds_up(report, physical_csv_rows(path))
    agrees(said, db, report)


def test_a_stray_quote_that_closes_later_quarantines_the_lines_it_spans(tmp_path: Path) -> None:
    header = "序号,企业名称,统一社会信用代码,证书编号,发证日期,认定类型"
    lines = [f'1,"甲,{make_uscc("350102", 1)},GR1,2026/3/18,认定',
             f"2,乙,{make_uscc('350102', 2)},GR2,2026/3/18,认定",
             f'3,丙",{make_uscc("350102", 3)},GR3,2026/3/18,认定',
             f"4,丁,{make_uscc('350102', 4)},GR4,2026/3/18,认定"]
    path = tmp_path / "hitech_stray.csv"
    path.write_bytes((header + "\n" + "\n".join(lines) + "\n").encode("gb18030"))
    db = new_db(tmp_path / "r.duckdb")
    report = land_source("hitech", path, db)
    assert (report["landed"], report["quarantined"]) == (1, 3)
    got = quarantine(db)
    assert [r for r, _, _ in got] == [2, 3, 4]
    assert got[0][2].startswith("row runs over lines 2-4: a quoted value holds line breaks")
    assert rows(db, "select row_number from raw.events") == [(5,)]
    adds_up(report, physical_csv_rows(path, "gb18030"))


def _grant_book(path: Path, extra_sheet: str | None = None, hidden_row: bool = False, formula: bool = False,
                beyond: bool = False) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.title = "拨付明细"
    sheet.append(["奖补资金拨付明细"])
    sheet.append(GRANT_HEADER)
    for n in range(3):
        sheet.append([n + 1, f"企业{n}", make_uscc("350102", 500 + n), "专精特新“小巨人”企业奖励", "省级", 100,
                      "2026-09-25", f"闽财企〔2026〕{n}号"])
    if hidden_row:
        sheet.row_dimensions[4].hidden = True
    if formula:
        sheet["F5"] = "=F3*2"  # openpyxl writes no cached value, like many export tools
    if beyond:
        sheet["J3"] = "备注：已撤回"
    if extra_sheet:
        more = book.create_sheet(extra_sheet)
        more.append(GRANT_HEADER)
        more.append([4, "企业4", make_uscc("350102", 504), "专精特新“小巨人”企业奖励", "省级", 100, "2026-09-25", "x"])
    book.save(path)
    return path


def test_a_second_sheet_with_data_is_an_error_unless_the_spec_names_it(tmp_path: Path) -> None:
    path = _grant_book(tmp_path / "grant_payments_two.xlsx", extra_sheet="第二批")
    with pytest.raises(IngestError, match=r"sheet '第二批' holds 2 non-empty row\(s\), but "
                                          r".*grant_payments/source\.yml reads only sheet '拨付明细'.*ignore_sheets"):
        land_source("grant_payments", path, new_db(tmp_path / "r.duckdb"))
    spec_path = edited_source(tmp_path / "spec", "grant_payments", "sheet: 拨付明细\n",
                              "sheet: 拨付明细\nignore_sheets: [第二批]\n")
    assert check_file(load_spec(spec_path), path).prepared.read == 3


def test_formula_cells_without_cached_values_hidden_rows_and_shifted_rows_are_quarantined(tmp_path: Path) -> None:
    path = _grant_book(tmp_path / "grant_payments_dirty.xlsx", hidden_row=True, formula=True, beyond=True)
    db = new_db(tmp_path / "r.duckdb")
    report = land_source("grant_payments", path, db)
    assert (report["read"], report["landed"], report["quarantined"]) == (3, 0, 3)
    reasons = {r: reason for r, _, reason in quarantine(db)}
    assert "values right of the last header column (J3: '备注：已撤回')" in reasons[3]
    assert reasons[4].startswith("row is hidden in the workbook")
    assert "formula cell(s) F5 (=F3*2) have no cached value" in reasons[5]
    adds_up(report, 3)


def test_a_row_of_only_uncached_formulas_does_not_vanish(tmp_path: Path) -> None:
    path = _grant_book(tmp_path / "grant_payments_formulas.xlsx")
    from openpyxl import load_workbook

    book = load_workbook(path)
    sheet = book["拨付明细"]
    for column in "ABCDEFGH":
        sheet[f"{column}6"] = f"={column}5"
    book.save(path)
    db = new_db(tmp_path / "r.duckdb")
    report = land_source("grant_payments", path, db)
    assert (report["read"], report["landed"], report["quarantined"]) == (4, 3, 1)
    assert quarantine(db)[0][0] == 6


def test_a_formula_with_its_cached_value_lands_that_value(tmp_path: Path) -> None:
    path = _grant_book(tmp_path / "grant_payments_cached.xlsx", formula=True)
    with zipfile.ZipFile(path) as source:  # give F5 a cached value, as Excel saves it
        parts = {name: source.read(name) for name in source.namelist()}
    sheet = next(n for n in parts if n.startswith("xl/worksheets/sheet"))
    # the writer leaves the value empty (<v/>, <v />, or <v></v> with lxml)
    parts[sheet] = re.sub(rb"<f>F3\*2</f>(<v\s*/>|<v></v>)", b"<f>F3*2</f><v>200</v>", parts[sheet])
    assert b"<v>200</v>" in parts[sheet]
    with zipfile.ZipFile(path, "w") as target:
        for name, data in parts.items():
            target.writestr(name, data)
    db = new_db(tmp_path / "r.duckdb")
    report = land_source("grant_payments", path, db)
    assert (report["landed"], report["quarantined"]) == (3, 0)
    assert rows(db, "select amount from raw.events where row_number = 5") == [(Decimal("2000000.00"),)]


def test_find_spec_still_loads_every_bundled_spec() -> None:
    assert find_spec("grant_payments").ignore_sheets == ()


def test_every_division_the_samples_cases_and_benchmark_use_is_real() -> None:
    """Samples, policy cases and the synthetic benchmark make USCCs with make_uscc over division
    codes: every one must be a GB/T 2260 division in use (python-stdnum's table), or the data would
    be quarantined by the contract."""
    import csv as csv_module
    import unicodedata

    from test_policy_cases import CASES, CITY_DIVISIONS

    from bench.synthetic import CATALOG_DIVISIONS, DIVISIONS
    from registry.core.uscc import division

    codes = {code for code, _, _ in DIVISIONS + CATALOG_DIVISIONS} | set(CITY_DIVISIONS.values())
    codes |= {row["division_code"] for case in CASES for row in case.firm_rows}
    with settings.sample("firms", "firms.csv").open(encoding="utf-8-sig") as handle:
        for row in csv_module.DictReader(handle):
            codes |= {row["division_code"], row["uscc"][2:8]}
    for name in ("events.csv", "events_bad.csv"):
        with settings.sample("events", name).open(encoding="utf-8-sig") as handle:
            usccs = [unicodedata.normalize("NFKC", row["uscc"]).strip() for row in csv_module.DictReader(handle)]
            codes |= {uscc[2:8] for uscc in usccs if len(uscc) == 18}
    unreal = sorted(c for c in codes if division(c) is None)
    assert unreal == [] and len(codes) > 60


def test_a_product_evaluation_must_name_its_product_a_centre_or_benchmark_may_not() -> None:
    """每项产品 pays each evaluated product: a row without the product cannot be told apart and is
    quarantined. A centre or benchmark project without its name is one unnamed centre / project of the
    firm (paid at most once by its clause's repeat_per), not a reason to drop the firm's award."""
    from registry.core.contracts import _program_rule

    assert _program_rule("product_security_evaluation", None) == (
        "program", "a product_security_evaluation event needs its program (the product it is about)")
    assert _program_rule("product_security_evaluation", "XX操作系统 V3") is None
    for event_type in ("mfg_innovation_center", "digital_benchmark"):
        assert _program_rule(event_type, None) is None
        assert _program_rule(event_type, "某创新中心") is None
    assert _program_rule("hitech", "x") is not None  # a type without programs still takes none
