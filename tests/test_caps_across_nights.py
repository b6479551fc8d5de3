"""A per-firm yearly cap is consumed across nights: what earlier nights listed counts.

厦门 二: 在孵企业上年度首次获得高企认定，每家20万元奖励孵化器，每家孵化器每年最高200万元.
Night 1 knows 8 tenants (160万); night 2 learns of 3 more (published later, same award year):
only the remaining 40万 may be listed, not 60万.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import EVENT_HEADER, FIRM_HEADER, new_db

from registry.core.uscc import make_uscc
from registry.ingest.land import ingest_file
from registry.pipeline.nightly import run_nightly

pytestmark = pytest.mark.slow  # nights built with dbt

CLAUSE = "xm-kf-2025.2.incubated-hitech"


def test_yearly_cap_is_consumed_across_nights(tmp_path: Path, write_csv) -> None:
    incubator = make_uscc("350203", 7000)
    tenants = [make_uscc("350203", 7001 + n) for n in range(11)]
    firms = write_csv("firms.csv", FIRM_HEADER, [
        {"uscc": u, "firm_name": f"厦门孵化案例{i}", "division_code": "350203", "industry_code": "M7320"}
        for i, u in enumerate([incubator, *tenants])])
    events = [
        {"uscc": incubator, "event_type": "incubator", "action": "granted", "level": "municipal",
         "effective_date": "2023-01-01"},
        {"uscc": incubator, "event_type": "incubator_assessment", "action": "granted", "program": "good",
         "fiscal_year": "2025", "effective_date": "2026-03-31"},
    ]
    for n, tenant in enumerate(tenants):
        events.append({"uscc": incubator, "event_type": "incubated_firm", "action": "granted",
                       "related_uscc": tenant, "effective_date": "2024-03-01"})
        events.append({"uscc": tenant, "event_type": "hitech", "action": "granted", "level": "national",
                       "effective_date": "2025-11-20",
                       "published_date": "2025-12-01" if n < 8 else "2026-05-10"})
    path = write_csv("events.csv", [*EVENT_HEADER, "related_uscc"], events)
    db = new_db(tmp_path / "r.duckdb")
    ingest_file("firms", firms, db)
    ingest_file("events", path, db)

    first = run_nightly(dt.date(2026, 4, 15), db)
    second = run_nightly(dt.date(2026, 6, 1), db)
    listed_first = sum(line.amount for line in first.lines if line.clause_id == CLAUSE)
    listed_second = sum(line.amount for line in second.lines if line.clause_id == CLAUSE)
    assert listed_first == Decimal("1600000.00")
    assert listed_second == Decimal("400000.00")
    assert all(line.uscc == incubator for line in (*first.lines, *second.lines))
