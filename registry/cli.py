"""The `registry` command: what operators, tests, docs and the Airflow DAGs call."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from registry import settings


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date in the form YYYY-MM-DD") from err


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="registry", description="免申即享 enterprise subsidy registry")
    parser.add_argument("--db", help=f"DuckDB file (default: ${settings.DB_ENV_VAR} or {settings.DEFAULT_DB})")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="run the whole pipeline on the bundled sample data into a fresh database")
    demo.add_argument("--date", type=_date, default=None, help="list date (default 2026-11-01)")

    ingest = sub.add_parser("ingest", help="land a file of a plain source (events, firms)")
    ingest.add_argument("source", choices=["events", "firms"])
    ingest.add_argument("file", type=Path)

    nightly = sub.add_parser("nightly", help="build the models and publish the list for one night")
    nightly.add_argument("--date", type=_date, required=True)
    nightly.add_argument("--json", action="store_true", help="print the published list as one JSON object")

    sub.add_parser("policies", help="list the policy catalog (documents and clauses)")

    explain = sub.add_parser("explain", help="why an entitlement exists: clause, facts, arithmetic, ledger")
    explain.add_argument("entitlement_id")

    firm = sub.add_parser("firm", help="a firm's timeline: events, tier, listed amounts")
    firm.add_argument("uscc")
    return parser


def main(argv: list[str] | None = None) -> int:
    settings.quiet_third_party()
    args = _parser().parse_args(argv)
    db = settings.db_path(args.db or (settings.DEMO_DB if args.command == "demo" else None))
    # Imports here, not at the top: `registry --help` should not wait for dbt, GX or pandas.
    from registry.catalog import CatalogError
    from registry.dbt_runner import DbtError
    from registry.explain import NotFound
    from registry.ingest import IngestError
    from registry.ledger import LedgerError

    try:
        return _run(args, db)
    except (IngestError, CatalogError, DbtError, LedgerError, NotFound, FileNotFoundError) as err:
        print(f"registry {args.command}: {err}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace, db: Path) -> int:
    if args.command == "demo":
        from registry.demo import DEMO_DATE, run_demo

        reports, published = run_demo(db, args.date or DEMO_DATE)
        for report in reports:
            print(report.summary())
        print(published.summary())
        print(f"database: {db}")
    elif args.command == "ingest":
        from registry.ingest import ingest_file

        print(ingest_file(args.source, args.file, db).summary())
    elif args.command == "nightly":
        from registry.nightly import run_nightly

        published = run_nightly(args.date, db)
        if args.json:
            print(json.dumps(published.to_json_obj(), ensure_ascii=False, sort_keys=True))
        else:
            print(published.summary())
    elif args.command == "policies":
        from registry.catalog import read_catalog
        from registry.policy_report import policies_text

        print(policies_text(read_catalog()))
    elif args.command == "explain":
        from registry.explain import explain_entitlement

        print(explain_entitlement(db, args.entitlement_id))
    elif args.command == "firm":
        from registry.explain import firm_timeline

        print(firm_timeline(db, args.uscc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
