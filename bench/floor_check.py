"""The floor against the models, entitlement by entitlement, on random histories of every event type
the catalog reads (the benchmark's generator produces only some of them):

    .venv/bin/python -m bench.floor_check --seed 1 --workdir /tmp/fc [--firms 400] [--budget]
        [--dates 2027-09-30 2030-12-31]

Random firms in the catalog's three cities get designations (granted, renewed, revoked, expired,
retracted, republished), grants tied or not to a designation's document_ref, rankings, evaluated
products, investments, loans, R&D spend, annual reports, incubators with assessments and tenants.
They land through the real ingest, the models are built for each date in turn (the clock is the
last date), and after each build the floor's payable rows (clause, firm, triggering event, amount)
are compared with marts.fct_entitlements. `--budget` declares a short yearly budget for the
software group so that pro rata is exercised. Exit status 1 when any row differs. Not a test (one
dbt build per date, ~30 s each); run it when the floor or the models change a rule.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import random
import shutil
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from bench.steps import FLOOR_SQL, floor_clauses_view, uncovered_features

CITY_DIVISIONS = ("350102", "350203", "330106")  # fuzhou, xiamen, hangzhou
INDUSTRIES = ("C3461", "M7320", "M7410", "I6513", "F5191", "C2710", "I6311", "M7511")
DESIGNATIONS = (  # event type, the levels it comes at
    ("hitech", ("national",)), ("scale_up", (None,)), ("srdi_provincial", ("provincial",)),
    ("little_giant", ("national",)), ("innovative_sme", (None,)), ("single_champion", ("national", "provincial")),
    ("tech_center", ("national", "provincial", "municipal")),
    ("design_center", ("national", "provincial", "municipal")),
    ("mfg_innovation_center", ("national", "provincial", "municipal")),
    ("tech_innovation_demo", ("national", "provincial")), ("5g_factory", ("national", "provincial")),
    ("digital_benchmark", ("national", "provincial")), ("rd_headquarters", (None, "provincial")),
    ("incubator", ("national", "provincial", "municipal")),
)
GRANT_PROGRAMS = ("little_giant", "srdi_provincial", "single_champion", "first_set_equipment", "rd_investment",
                  "key_research", "digital_benchmark", "digital_benchmark_national")
RANKINGS = ("software_revenue_top100", "software_competitiveness_top100", "internet_top100")
MEASURES = ("tech_renovation_investment", "digital_project_investment", "loan", "rd_expenditure")


class History:
    def __init__(self, seed: int, today: dt.date) -> None:
        self.rng = random.Random(seed)
        self.today = today
        self.events: list[dict[str, str]] = []

    def day(self, lo: str = "2021-06-01", hi: str | None = None) -> dt.date:
        start, end = dt.date.fromisoformat(lo), dt.date.fromisoformat(hi) if hi else self.today
        return start + dt.timedelta(days=self.rng.randrange((end - start).days))

    def ref(self, prefix: str, n: int = 4) -> str:
        return f"{prefix}〔{self.rng.randrange(2022, 2030)}〕{self.rng.randrange(1, n)}号"

    def add(self, firm: dict[str, str], event_type: str, action: str, day: dt.date, **fields: Any) -> None:
        if day > self.today:
            return
        row = {"uscc": firm["uscc"], "firm_name": firm["firm_name"], "event_type": event_type, "action": action,
               "effective_date": day.isoformat()}
        if self.rng.random() < 0.15:  # published late: a night before it does not know it
            published = day + dt.timedelta(days=self.rng.randrange(1, 400))
            if published <= self.today:
                row["published_date"] = published.isoformat()
        row.update({k: str(v) for k, v in fields.items() if v is not None})
        self.events.append(row)


def generate(seed: int, firm_count: int, today: dt.date) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    from registry.core.uscc import make_uscc

    h = History(seed, today)
    r = h.rng
    firms = []
    for i in range(firm_count):
        division = r.choice(CITY_DIVISIONS)
        firms.append({"uscc": make_uscc(division, 500_000 + seed * 10_000 + i), "firm_name": f"核对{seed}-{i}",
                      "division_code": division, "industry_code": r.choice(INDUSTRIES),
                      "registered_date": "2010-01-01"})
    for firm in firms:
        held = []
        for event_type, levels in DESIGNATIONS:
            if r.random() > 0.35:
                continue
            level, day = r.choice(levels), h.day()
            for k in range(r.randrange(1, 4)):
                action = "granted" if k == 0 or r.random() < 0.4 else r.choice(["renewed", "revoked", "expired",
                                                                                "granted"])
                ref = h.ref(f"{event_type}认定", 3)
                program = (r.choice(["甲中心", "乙中心", "丙项目"])
                           if event_type in ("mfg_innovation_center", "digital_benchmark") and r.random() < 0.6
                           else None)
                h.add(firm, event_type, action, day, level=level, document_ref=ref, program=program)
                held.append(ref)
                if r.random() < 0.05:
                    h.add(firm, event_type, "retracted", day, level=level, document_ref="撤回" + ref, program=program)
                day += dt.timedelta(days=r.choice([0, 30, 200, 400, 800, 1100, 1200]))
        for _ in range(r.randrange(0, 4)):  # grants, tied to a designation's document_ref or not
            event_type = r.choice(["provincial_grant", "provincial_grant", "national_grant"])
            level = "provincial" if event_type == "provincial_grant" else "national"
            program = r.choice(GRANT_PROGRAMS)
            ref = r.choice(held) if held and r.random() < 0.5 else (h.ref("省财企") if r.random() < 0.5 else None)
            amount = r.choice([100000, 250000, 500000, Decimal("1234567.89"), 3000000, 8000000, 20000000])
            day = h.day()
            h.add(firm, event_type, "granted", day, level=level, program=program, amount=amount, document_ref=ref)
            if r.random() < 0.05:
                h.add(firm, event_type, "retracted", day, level=level, program=program, amount=amount)
        for _ in range(r.randrange(0, 3)):
            h.add(firm, "software_ranking", "granted", h.day(), level="national", program=r.choice(RANKINGS),
                  rank=r.randrange(1, 101))
        for _ in range(r.randrange(0, 3)):
            h.add(firm, "product_security_evaluation", "granted", h.day(), level="national",
                  program=r.choice(["数据库", "中间件", "操作系统"]))
        for event_type in MEASURES:
            for _ in range(r.randrange(0, 4) if r.random() < 0.4 else 0):
                day = h.day()
                h.add(firm, event_type, "granted", day, fiscal_year=day.year if r.random() < 0.8 else day.year - 1,
                      amount=r.choice([800000, 2000000, 4000000, 6000000, 15000000, 40000000, 123456789]),
                      document_ref=f"项目{r.randrange(1, 4)}" if r.random() < 0.7 else None)
        if r.random() < 0.6:
            revenue = Decimal(r.choice([30, 60, 90, 200, 700])) * 1_000_000
            for year in range(2022, today.year):
                if r.random() < 0.85:
                    revenue = (revenue * Decimal(str(round(r.uniform(0.8, 1.35), 3)))).quantize(Decimal("0.01"))
                    filed = dt.date(year, 12, 31) + dt.timedelta(days=r.randrange(60, 150))
                    h.add(firm, "annual_report", "granted", filed, fiscal_year=year, revenue=revenue,
                          document_ref=f"年报{year}",
                          profit=(revenue * Decimal(str(round(r.uniform(-0.05, 0.15), 3)))).quantize(Decimal("0.01")),
                          wages=(revenue * Decimal(str(round(r.uniform(0.05, 0.2), 3)))).quantize(Decimal("0.01")))
    incubators = {e["uscc"] for e in h.events if e["event_type"] == "incubator"}
    for incubator in (f for f in firms if f["uscc"] in incubators):
        for year in range(2023, today.year):
            if r.random() < 0.7:
                h.add(incubator, "incubator_assessment", "granted", dt.date(year + 1, 3, 31), fiscal_year=year,
                      program=r.choice(["excellent", "good", "pass", "fail"]))
        for tenant in r.sample(firms, min(12, len(firms))):
            day = h.day("2022-01-01")
            h.add(incubator, "incubated_firm", "granted", day, related_uscc=tenant["uscc"])
            if r.random() < 0.5:
                h.add(incubator, "incubated_firm", r.choice(["expired", "expired", "revoked"]),
                      day + dt.timedelta(days=r.randrange(100, 1500)), related_uscc=tenant["uscc"])
            if r.random() < 0.6:
                h.add(tenant, "hitech", "granted", day + dt.timedelta(days=r.randrange(-300, 1200)), level="national",
                      document_ref=h.ref("高企"))
    return firms, h.events


def _write(path: Path, header: tuple[str, ...], rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(header))
        writer.writeheader()
        writer.writerows(rows)
    return path


def compare(db: Path, as_of: dt.date) -> dict[str, Any]:
    """The floor's payable rows against the models', keyed by (clause, firm, triggering event)."""
    sql = FLOOR_SQL.read_text(encoding="utf-8")
    rows_sql = (sql[:sql.rindex("\nselect c.clause_id")]
                + "\nselect p.clause_id, g.uscc, p.event_id, p.amount from paid as p "
                  "join group_capped as g using (clause_id, event_id)")
    with duckdb.connect(str(db), read_only=True) as con:
        uncovered = uncovered_features(con)
        floor_clauses_view(con)
        con.execute("set variable as_of = ?", [as_of])
        floor = {(c, u, e): a for c, u, e, a in con.execute(rows_sql).fetchall()}
        models = {(c, u, e): a for c, u, e, a in con.execute(
            "select clause_id, uscc, trigger_event_id, payable_amount from marts.fct_entitlements "
            "where status = 'payable'").fetchall()}
    differ = sorted([(k, floor.get(k), models.get(k)) for k in floor.keys() | models.keys()
                     if floor.get(k) != models.get(k)], key=str)
    return {"as_of": as_of.isoformat(), "floor_rows": len(floor), "model_rows": len(models),
            "total": sum(floor.values(), Decimal(0)), "not_covered": uncovered, "differ": differ}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.floor_check")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--firms", type=int, default=400)
    parser.add_argument("--dates", nargs="+", default=["2030-12-31"], type=dt.date.fromisoformat)
    parser.add_argument("--budget", action="store_true", help="a short yearly budget for the software group")
    parser.add_argument("--workdir", type=Path, required=True)
    ns = parser.parse_args(argv)
    from registry.core import settings

    os.environ[settings.TODAY_ENV] = max(ns.dates).isoformat()
    from registry.catalog.store import load_catalog
    from registry.core.contracts import EVENTS, FIRMS
    from registry.ingest.land import ingest_file
    from registry.pipeline.nightly import build_models
    from registry.pipeline.setup import init_database

    ns.workdir.mkdir(parents=True, exist_ok=True)
    db = ns.workdir / "registry.duckdb"
    db.unlink(missing_ok=True)
    init_database(db)
    firms, events = generate(ns.seed, ns.firms, max(ns.dates))
    for source, path in (("firms", _write(ns.workdir / "firms.csv", FIRMS.field_names, firms)),
                         ("events", _write(ns.workdir / "events.csv", EVENTS.field_names, events))):
        print(ingest_file(source, path, db).summary().splitlines()[0])
    policies = settings.POLICY_DIR
    if ns.budget:
        import yaml

        policies = ns.workdir / "policies"
        shutil.rmtree(policies, ignore_errors=True)
        shutil.copytree(settings.POLICY_DIR, policies)
        (policies / "budgets.yml").write_text(yaml.safe_dump({"budgets": [{
            "group": "fz-2026-5.a4.software", "years": {y: 3_000_000 + 7 * y for y in range(2024, 2031)}}]}),
            encoding="utf-8")
    load_catalog(db, policies)
    failed = False
    for as_of in ns.dates:
        build_models(as_of, db)
        result = compare(db, as_of)
        print(f"{result['as_of']}: floor {result['floor_rows']} rows, models {result['model_rows']}, "
              f"floor total {result['total']}, not covered {sorted(result['not_covered']) or 'none'}, "
              f"rows that differ {len(result['differ'])}")
        for key, floor_amount, model_amount in result["differ"][:20]:
            print(f"  {key}: floor {floor_amount}, models {model_amount}")
        failed = failed or bool(result["differ"] or result["not_covered"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
