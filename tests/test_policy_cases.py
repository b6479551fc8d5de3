"""Every clause of the catalog, tested on hand-computed cases (tests/policy_cases/*.yml).

Each case names the clause it tests, a few firms and their events, and every payable
entitlement those firms must get (nothing else). All cases land in one database through the
real ingest path and one dbt build, so the whole catalog is checked in one run. A clause
without a case that pays and a case that does not fails `test_every_clause_has_cases`.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from conftest import EVENT_HEADER, FIRM_HEADER, new_db

from registry.catalog.read import read_catalog
from registry.catalog.store import load_catalog
from registry.core import settings
from registry.core.uscc import make_uscc
from registry.ingest.land import ingest_file
from registry.pipeline.nightly import build_models

pytestmark = pytest.mark.slow  # one dbt build over every case

CASES_DIR = Path(__file__).parent / "policy_cases"
LIST_DATE = dt.date(2030, 12, 31)
CITY_DIVISIONS = {"fuzhou": "350102", "xiamen": "350203", "hangzhou": "330106"}
EVENT_FIELDS = [f for f in EVENT_HEADER if f != "uscc"] + ["rank", "related_uscc"]


@dataclass(frozen=True)
class Case:
    file: str
    index: int
    clause: str
    name: str
    firms: dict[str, str]  # key -> uscc
    events: list[dict[str, Any]]
    expect: tuple[tuple[str, str, str, str], ...]  # (firm key, clause, amount, status), sorted
    firm_rows: list[dict[str, str]]

    @property
    def id(self) -> str:
        return f"{self.file}#{self.index}:{self.clause}"

    @property
    def pays(self) -> bool:
        return any(clause == self.clause for _, clause, _, _ in self.expect)


def _load_cases() -> list[Case]:
    serial = itertools.count(100_000)
    cases = []
    for file in sorted(CASES_DIR.glob("*.yml")):
        for index, raw in enumerate(yaml.safe_load(file.read_text(encoding="utf-8"))["cases"]):
            firms, firm_rows = {}, []
            for firm in raw["firms"]:
                division = str(firm.get("division_code") or CITY_DIVISIONS[firm["city"]])
                uscc = make_uscc(division, next(serial))
                firms[firm["key"]] = uscc
                firm_rows.append({"uscc": uscc, "firm_name": f"案例{file.stem}-{index}-{firm['key']}",
                                  "division_code": division, "industry_code": firm.get("industry_code", "C3461"),
                                  "registered_date": "2010-01-01"})
            events = []
            for event in raw.get("events") or []:
                row = {k: ("" if v is None else str(v)) for k, v in event.items() if k not in {"firm", "related_firm"}}
                row["uscc"] = firms[event["firm"]]
                if "related_firm" in event:
                    row["related_uscc"] = firms[event["related_firm"]]
                events.append(row)
            expect = tuple(sorted(
                (e["firm"], e["clause"], f"{Decimal(str(e['amount'])):.2f}", e.get("status", "payable"))
                for e in raw.get("expect") or []))
            cases.append(Case(file.stem, index, raw["clause"], raw.get("name", ""), firms, events, expect, firm_rows))
    return cases


CASES = _load_cases()


def _write(path: Path, header: list[str], rows: list[dict[str, str]]) -> Path:
    import csv

    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, extrasaction="raise")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row.get(k, "") for k in header})
    return path


@pytest.fixture(scope="module")
def payable(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple[str, str, str]]]:
    """uscc -> [(clause_id, amount, status)] for every entitlement that is payable (amount: payable_amount)
    or needs an application (amount: entitled_amount) in every case."""
    folder = tmp_path_factory.mktemp("policy_cases")
    db = new_db(folder / "registry.duckdb")
    with pytest.MonkeyPatch.context() as clock:  # the cases' facts run to 2029: the clock is the list date
        clock.setenv(settings.TODAY_ENV, LIST_DATE.isoformat())
        return _build(folder, db)


def _build(folder: Path, db: Path) -> dict[str, list[tuple[str, str, str]]]:
    firms = _write(folder / "firms.csv", FIRM_HEADER, [row for case in CASES for row in case.firm_rows])
    events = _write(folder / "events.csv", ["uscc", *EVENT_FIELDS], [e for case in CASES for e in case.events])
    for source, path in (("firms", firms), ("events", events)):
        report = ingest_file(source, path, db)
        assert report.quarantined == 0, f"a case has an event the contract refuses: {report.summary()}"
    load_catalog(db)
    build_models(LIST_DATE, db)
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "select uscc, clause_id, case status when 'payable' then payable_amount else entitled_amount end, status "
            "from marts.fct_entitlements where status in ('payable', 'needs_application')").fetchall()
    result: dict[str, list[tuple[str, str, str]]] = {}
    for uscc, clause, amount, status in rows:
        result.setdefault(uscc, []).append((clause, f"{amount:.2f}", status))
    return result


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(case: Case, payable: dict[str, list[tuple[str, str, str]]]) -> None:
    key_of = {uscc: key for key, uscc in case.firms.items()}
    got = tuple(sorted((key_of[uscc], clause, amount, status) for uscc in case.firms.values()
                       for clause, amount, status in payable.get(uscc, ())))
    assert got == case.expect, f"{case.name}: expected {list(case.expect)}, got {list(got)}"


def test_every_clause_has_cases() -> None:
    missing = []
    for clause in read_catalog().clauses:
        own = [c for c in CASES if c.clause == clause.clause_id]
        if not any(c.pays for c in own):
            missing.append(f"{clause.clause_id} ({clause.source_file} {clause.article}): no case that pays")
        if not any(not c.pays for c in own):
            missing.append(f"{clause.clause_id} ({clause.source_file} {clause.article}): no case that does not pay")
    assert not missing, "clauses without tests:\n" + "\n".join(missing)


def test_cases_name_real_clauses() -> None:
    known = {c.clause_id for c in read_catalog().clauses}
    unknown = sorted({c.clause for c in CASES} - known)
    assert not unknown, f"cases name clauses that are not in the catalog: {unknown}"
