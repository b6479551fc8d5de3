"""Property-based fuzzing of the landing path, as the trusted systems test themselves: hypothesis
writes random hostile CSV and XLSX files (encodings, truncation, stray and unclosed quotes,
control characters, huge and odd numbers, formulas, hidden rows, extra sheets, duplicate keys with
different values) and checks, for every file:

* `ingest` never raises anything but an `IngestError` for the file as a whole (and then lands
  nothing);
* every physical row after the header ends in exactly one place: landed, quarantined, a duplicate,
  or blank; and read = landed + quarantined + duplicates;
* nothing lands that the contract forbids: every landed row passes the contract's parsers and
  rules again, and no two facts of one load share an identity with different values;
* `registry sources check` (run against the same database first) said exactly what `ingest` did.

The time is bounded (`max_examples` below: 30 CSV and 12 XLSX files; 40 s of CPU, 45-80 s of wall time on
this shared machine). Examples share one database, so later files also meet facts landed by earlier
ones (duplicates, conflicts).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
from pathlib import Path
from typing import Any

import duckdb
import pytest
from conftest import new_db
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from registry.core import vocabulary
from registry.core.contracts import EVENTS, FieldError
from registry.core.uscc import make_uscc
from registry.ingest.check import check_file
from registry.ingest.errors import IngestError
from registry.ingest.land import land
from registry.ingest.spec import find_spec

pytestmark = pytest.mark.slow  # hundreds of generated files landed

CSV_EXAMPLES = 30
XLSX_EXAMPLES = 12
FUZZ = settings(deadline=None, database=None, derandomize=True, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

FIELDS = list(EVENTS.field_names)
USCCS = [make_uscc(d, s) for d in ("350102", "350203", "330106") for s in (1, 2)]
BAD_USCCS = ["91350102MA5JYYF90X", make_uscc("999999", 1), make_uscc("000000", 2),
             "９１３５０１０２ＭＡ５ＪＹＹＦ９０Ｅ",
             " 91350102MA5JYYF90E ", "91350102 MA5JYYF90E", "x"]
TEXT = st.text(alphabet=st.sampled_from(list("福州测试公司号A1 ,\"'\n\r\t\x00\x0b\x1f\x7f\x85\u202e\u3000\ufeff（）")),
               max_size=8)
AMOUNTS = ["1000000.00", "1200000", "0", "1e9", "1E+3", "12345678901234567890", "150000000", "99999999.99", "-5",
           "NaN", "Infinity", "1,000", "0.125", "１２３", " 12", "=1+1", "0x10", "1_000", ".5", "5."]
DATES = ["2026-03-18", "2026-09-25", "2026-13-01", "2026-02-30", "9999-12-31", "1900-01-01", "0001-01-01",
         "2030-01-01", "2062-11-15", "2026/3/18", "20260318", "2027-06-01"]
PROGRAMS = ["little_giant", "rd_investment", "internet_top100", "excellent", "talent_subsidy", "操作系统V1"]


def cell(choices: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(choices), st.just(""), TEXT)


BASES = [  # valid rows of each kind; a few of their cells are then made hostile
    {"event_type": "hitech", "action": "granted", "level": "national", "effective_date": "2026-03-18",
     "published_date": "2026-03-25", "document_ref": "GR202635000101"},
    {"event_type": "provincial_grant", "action": "granted", "level": "provincial", "effective_date": "2026-09-25",
     "published_date": "2026-09-28", "document_ref": "闽财企〔2026〕38号", "program": "little_giant",
     "amount": "1000000.00"},
    {"event_type": "provincial_grant", "action": "retracted", "level": "provincial", "effective_date": "2026-09-25",
     "published_date": "2026-10-15", "program": "little_giant", "amount": "1000000.00"},
    {"event_type": "annual_report", "action": "granted", "effective_date": "2026-04-30", "fiscal_year": "2025",
     "revenue": "30000000", "profit": "-2000000", "wages": "3000000"},
    {"event_type": "software_ranking", "action": "granted", "level": "national", "effective_date": "2026-09-01",
     "program": "software_revenue_top100", "rank": "8"},
    {"event_type": "loan", "action": "granted", "effective_date": "2026-06-01", "fiscal_year": "2026",
     "amount": "5000000", "document_ref": "L-001"},
]
HOSTILE: dict[str, st.SearchStrategy[str]] = {
    "uscc": st.sampled_from(BAD_USCCS),
    "firm_name": TEXT,
    "event_type": st.sampled_from([*sorted(vocabulary.EVENT_TYPE_NAMES), "hitec", ""]),
    "action": st.sampled_from([*vocabulary.ACTIONS, "", "新认定"]),
    "level": st.sampled_from([*vocabulary.LEVELS, "", "国家级"]),
    "effective_date": st.sampled_from(DATES),
    "published_date": st.sampled_from(["", *DATES]),
    "document_ref": st.one_of(st.sampled_from(["", "闽财企〔2026〕39号"]), TEXT),
    "program": st.one_of(st.sampled_from(["", *PROGRAMS]), TEXT),
    "amount": st.one_of(st.sampled_from(["", *AMOUNTS]),
                        st.decimals(allow_nan=False, allow_infinity=False, places=2).map(str)),
    "fiscal_year": st.sampled_from(["", "2025", "2026", "1899", "25"]),
    "revenue": st.sampled_from(["", "30000000", "1e20", "-1", "99999999999999999"]),
    "profit": st.sampled_from(["", "-2000000", "2000000"]),
    "wages": st.sampled_from(["", "3000000"]),
    "rank": st.sampled_from(["", "8", "0", "1000000"]),
    "related_uscc": st.sampled_from(["", *USCCS[:2], BAD_USCCS[0]]),
}


@st.composite
def event_rows(draw: st.DrawFn) -> dict[str, str]:
    row = dict.fromkeys(FIELDS, "")
    row.update(uscc=draw(st.sampled_from(USCCS)), firm_name="福州测试有限公司", **draw(st.sampled_from(BASES)))
    for name in draw(st.lists(st.sampled_from(FIELDS), max_size=3, unique=True)):
        row[name] = draw(HOSTILE[name])
    return row


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[bytes, str]:
    rows = draw(st.lists(event_rows(), min_size=1, max_size=12))
    for _ in range(draw(st.integers(0, 3))):  # the same key again: an exact repeat, or another amount
        twin = dict(draw(st.sampled_from(rows)))
        if draw(st.booleans()):
            twin["amount"] = draw(st.sampled_from(AMOUNTS))
        rows.insert(draw(st.integers(0, len(rows))), twin)
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
    lines = []
    for row in rows:
        out = io.StringIO()
        csv.writer(out, quoting=quoting, lineterminator="").writerow([row[f] for f in FIELDS])
        line = out.getvalue()
        mutation = draw(st.sampled_from(["none"] * 6 + ["stray_quote", "cut_cells", "extra_cell", "raw_join"]))
        if mutation == "stray_quote":
            at = draw(st.integers(0, len(line)))
            line = line[:at] + '"' + line[at:]
        elif mutation == "cut_cells":
            line = line[: line.rfind(",", 0, max(line.rfind(","), 0))] if "," in line else line
        elif mutation == "extra_cell":
            line += ",多余"
        elif mutation == "raw_join":  # a tool that never quotes
            line = ",".join(row[f] for f in FIELDS)
        lines.append(line)
        if draw(st.integers(0, 9)) == 0:
            lines.append(draw(st.sampled_from(["", ",,,,", "  ", '""'])))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = ",".join(FIELDS) + newline + newline.join(lines) + (newline if draw(st.booleans()) else "")
    encoding = draw(st.sampled_from(["utf-8"] * 4 + ["utf-8-sig", "gb18030"]))
    raw = text.encode(encoding, errors="replace")
    if draw(st.integers(0, 4)) == 0:  # a file cut anywhere after its header
        raw = raw[: draw(st.integers(len(FIELDS) * 8, max(len(raw), len(FIELDS) * 8)))]
    return raw, encoding


XLSX_HEADER = ["序号", "企业名称", "统一社会信用代码", "项目名称", "资金级别", "拨付金额（万元）", "拨付日期", "文号"]
XLSX_CELLS = st.one_of(
    st.none(), st.integers(-10, 10**20), st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.sampled_from(["专精特新“小巨人”企业奖励", "制造业单项冠军企业奖励", "人才补助", "省级", "国家级", "市级",
                     "50万元",
                     "1,000.5", "约30", "1e9", "2026年9月25日", "2026/9/10", "=F3*2", "=SUM(F3:F4)", *USCCS,
                     *BAD_USCCS]),
    st.datetimes(min_value=dt.datetime(1890, 1, 1), max_value=dt.datetime(2100, 1, 1)),
    TEXT.map(lambda t: ILLEGAL_CHARACTERS_RE.sub("", t)),
)


@st.composite
def xlsx_files(draw: st.DrawFn) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "拨付明细"
    sheet.append(["专精特新奖补资金拨付明细"])
    sheet.append(XLSX_HEADER)
    good = [1, "企业", USCCS[0], "专精特新“小巨人”企业奖励", "省级", 100, "2026-09-25", "闽财企〔2026〕38号"]
    for _ in range(draw(st.integers(1, 10))):
        hostile = draw(st.lists(st.integers(0, len(good) - 1), max_size=3, unique=True))
        row = [draw(XLSX_CELLS) if i in hostile else value for i, value in enumerate(good)]
        row[2] = row[2] if 2 in hostile else draw(st.sampled_from(USCCS))
        if draw(st.integers(0, 5)) == 0:
            row.append(draw(XLSX_CELLS))  # a value right of the header
        sheet.append(row)
    for number in draw(st.lists(st.integers(3, sheet.max_row + 2), max_size=2)):
        sheet.row_dimensions[number].hidden = True
    extra = draw(st.sampled_from([None] * 6 + ["empty", "data"]))
    if extra:
        more = book.create_sheet("说明" if extra == "empty" else "第二批")
        if extra == "data":
            more.append(good)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def fuzz_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return new_db(tmp_path_factory.mktemp("fuzz") / "registry.duckdb")


def _rows(db: Path, sql: str, params: list) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params).fetchall()


def _physical_csv(raw: bytes, encoding: str) -> int | None:
    try:
        text = raw.decode("utf-8-sig" if encoding.startswith("utf-8") else encoding)
    except UnicodeDecodeError:
        return None
    return len(io.StringIO(text, newline="").readlines())


def _contract_allows(row: dict[str, Any]) -> list[str]:
    """Parse a landed row's values again as the contract does: the problems found (none expected)."""
    problems = []
    parsed = {}
    for field in EVENTS.fields:
        value = row[field.name]
        text = None if value is None else (value.isoformat() if hasattr(value, "isoformat") else str(value))
        try:
            parsed[field.name] = None if text is None else field.parse(text)
        except FieldError as err:
            problems.append(f"{field.name}: {err}")
    if not problems:
        problems += [f"{f}: {r}" for f, r in EVENTS.row_rules(parsed)]
    return problems


def _land_and_check(spec_name: str, path: Path, db: Path, header_end: int, physical: int | None) -> None:
    spec = find_spec(spec_name)
    try:
        said = check_file(spec, path, db=db)
    except IngestError:
        said = None
    loads_before = _rows(db, "select count(*) from raw.loads", [])[0][0]
    try:
        report = land(spec, path, db)
    except IngestError as err:
        event(f"refused: {str(err).split(': ', 1)[-1][:40]}")
        assert said is None, "sources check read the file that ingest refused"
        assert _rows(db, "select count(*) from raw.loads", [])[0][0] == loads_before
        return
    assert said is not None, "ingest landed a file that sources check refused"
    if report.already_loaded:
        assert report.duplicate == report.read
        return
    load_id = f"{spec.name}:{report.file_sha256[:20]}"
    landed = _rows(db, "select * from raw.events where load_id = ? order by row_number", [load_id])
    columns = [c for (c,) in _rows(db, "select column_name from information_schema.columns where table_schema = 'raw' "
                                       "and table_name = 'events' order by ordinal_position", [])]
    landed_rows = [dict(zip(columns, r, strict=True)) for r in landed]
    quarantined = _rows(db, "select row_number, field, reason from raw.quarantine where load_id = ?", [load_id])
    event(f"landed {min(report.landed, 3)}+ quarantined {min(report.quarantined, 3)}+")
    for _, field, reason in quarantined:
        event(f"quarantine {field}: {reason.split(':', 1)[0][:30]}")
    # read = landed + quarantined + duplicates, and every physical row is in exactly one place
    assert report.read == report.landed + report.quarantined + report.duplicate
    places = [{r["row_number"] for r in landed_rows}, {r for r, _, _ in quarantined},
              {d["row"] for d in said.to_json_obj()["duplicate_rows"]} |
              {d["row"] for d in said.to_json_obj()["already_landed_rows"]},
              set(said.prepared.blank_rows)]
    assert sum(len(p) for p in places) == len(set().union(*places)), f"a row in two places: {places}"
    assert len(places[0]) == report.landed and len(places[1]) == report.quarantined
    if physical is not None:
        assert set().union(*places) == set(range(header_end + 1, header_end + physical + 1)), places
    # nothing lands that the contract forbids
    for row in landed_rows:
        assert _contract_allows(row) == [], row
    identities: dict[tuple, str] = {}
    for row in landed_rows:
        names = EVENTS.identity(row)
        key = tuple(str(row[n]) for n in names)
        assert identities.setdefault(key, row["event_key"]) == row["event_key"], f"two facts, one identity: {key}"
    # sources check said exactly what ingest did
    said_json = said.to_json_obj()
    assert sorted((q["row"], q["field"], q["reason"]) for q in said_json["quarantine"]) == sorted(quarantined)
    assert said_json["would_land"] == report.landed and said_json["duplicates"] == report.duplicate


@settings(FUZZ, max_examples=CSV_EXAMPLES)
@given(csv_files())
def test_random_hostile_csv_files(fuzz_db: Path, file: tuple[bytes, str]) -> None:
    raw, encoding = file
    folder = Path(tempfile.mkdtemp(dir=fuzz_db.parent))
    path = folder / "events_fuzz.csv"
    path.write_bytes(raw)
    total = _physical_csv(raw, encoding)
    _land_and_check("events", path, fuzz_db, 1, None if total is None else total - 1)


@settings(FUZZ, max_examples=XLSX_EXAMPLES)
@given(xlsx_files())
def test_random_hostile_xlsx_files(fuzz_db: Path, raw: bytes) -> None:
    from openpyxl import load_workbook

    folder = Path(tempfile.mkdtemp(dir=fuzz_db.parent))
    path = folder / "grant_payments_fuzz.xlsx"
    path.write_bytes(raw)
    sheet = load_workbook(path)["拨付明细"]
    _land_and_check("grant_payments", path, fuzz_db, 2, sheet.max_row - 2)
