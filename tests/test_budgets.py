"""附件4 五: awards limited by the year's budget are paid pro rata when it is short."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import yaml
from conftest import EVENT_HEADER, FIRM_HEADER, new_db

from registry.catalog.read import CatalogError, read_catalog
from registry.catalog.store import load_catalog
from registry.core import settings
from registry.core.uscc import make_uscc
from registry.ingest.land import ingest_file
from registry.pipeline.nightly import build_models

pytestmark = pytest.mark.slow  # nights built with dbt

GROUP = "fz-2026-5.a4.software"


def declare_budget(folder: Path, years: dict[int, int], group: str = GROUP) -> None:
    (folder / "budgets.yml").write_text(
        yaml.safe_dump({"budgets": [{"group": group, "years": years}]}), encoding="utf-8")


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "policies"
    shutil.copytree(settings.POLICY_DIR, folder)
    return folder


def test_a_budget_for_an_unknown_group_is_refused(policy_dir: Path) -> None:
    declare_budget(policy_dir, {2026: 1000000}, group="no.such.group")
    with pytest.raises(CatalogError, match=r"budgets\.yml.*no clause declares budget_group 'no\.such\.group'"):
        read_catalog(policy_dir)


def test_short_budget_pays_pro_rata_and_shows_both_amounts(policy_dir: Path, tmp_path: Path, write_csv) -> None:
    software = [c for c in read_catalog(policy_dir).clauses if c.budget_group == GROUP]
    assert software, "附件4 clauses should declare the software budget group"
    declare_budget(policy_dir, {2026: 1_000_000})
    a, b, c = (make_uscc("350102", n) for n in (901, 902, 903))
    firms = write_csv("firms.csv", FIRM_HEADER, [
        {"uscc": u, "firm_name": n, "division_code": "350102", "industry_code": "I6513"}
        for u, n in ((a, "甲软件"), (b, "乙软件"), (c, "丙软件"))])
    events = write_csv("events.csv", [*EVENT_HEADER, "rank"], [
        {"uscc": u, "event_type": "product_security_evaluation", "action": "granted", "level": "national",
         "program": p, "effective_date": "2026-06-01"}
        for u, p in ((a, "甲数据库"), (a, "甲中间件"), (b, "乙操作系统"))])
    db = new_db(tmp_path / "r.duckdb")
    ingest_file("firms", firms, db)
    ingest_file("events", events, db)
    load_catalog(db, policy_dir)
    build_models(dt.date(2026, 12, 31), db)
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("select uscc, entitled_amount, payable_amount from marts.fct_entitlements "
                           "where status = 'payable' order by uscc, trigger_event_id").fetchall()
    # three products x 50万 = 150万 claimed against a 100万 budget: each paid 2/3, rounded down to the fen
    assert sorted(rows) == sorted([(a, Decimal("500000.00"), Decimal("333333.33")),
                                   (a, Decimal("500000.00"), Decimal("333333.33")),
                                   (b, Decimal("500000.00"), Decimal("333333.33"))])
    assert sum(r[2] for r in rows) <= Decimal("1000000.00")
