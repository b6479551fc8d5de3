"""The `registry` command: what operators, tests, docs and the Airflow DAGs call."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from registry.core import settings
from registry.core.errors import RegistryError


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date in the form YYYY-MM-DD") from err


def _subparser_class(common: argparse.ArgumentParser) -> type[argparse.ArgumentParser]:
    class Subparser(argparse.ArgumentParser):
        def __init__(self, **kwargs: object) -> None:
            kwargs.setdefault("parents", [common])
            super().__init__(**kwargs)  # type: ignore[arg-type]

    return Subparser


def _parser() -> argparse.ArgumentParser:
    db_help = f"DuckDB file (default: ${settings.DB_ENV_VAR} or {settings.DEFAULT_DB})"
    parser = argparse.ArgumentParser(prog="registry", description="免申即享 enterprise subsidy registry")
    parser.add_argument("--db", help=db_help)
    # `--db` is accepted after the subcommand too (registry nightly --db X ...)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", default=argparse.SUPPRESS, help=db_help)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_subparser_class(common))

    sub.add_parser("init", help="create an empty registry database (every other command except demo needs one)")

    demo = sub.add_parser("demo", help="run the whole pipeline on the bundled sample data into a fresh database")
    demo.add_argument("--date", type=_date, default=None, help="list date (default 2026-11-01)")

    ingest = sub.add_parser("ingest", help="land a file of a source (a spec in sources/: events, firms, hitech, ...)")
    ingest.add_argument("source", help="source name (`registry sources list`)")
    ingest.add_argument("file", type=Path)

    sources = sub.add_parser("sources", help="the declarative sources (sources/*.yml): list them, dry-run a file")
    sources_sub = sources.add_subparsers(dest="sources_command", required=True)
    sources_sub.add_parser("list", help="every source spec: contract, format, schedule, inbox files, GX suite")
    check = sources_sub.add_parser("check", help="what FILE would land, what would be quarantined and why, and the "
                                                 "GX result, without writing anything")
    check.add_argument("spec", help="a source name, or the path of a spec file being written")
    check.add_argument("file", type=Path)
    check.add_argument("--json", action="store_true", help="print the result as one JSON object")
    check.add_argument("--limit", type=int, default=50, help="rows shown per section (default 50)")

    nightly = sub.add_parser("nightly", help="build the models and publish the list for one night")
    nightly.add_argument("--date", type=_date, required=True)
    nightly.add_argument("--json", action="store_true", help="print the published list as one JSON object")
    nightly.add_argument("--engine", choices=["duckdb", "spark"], default=None,
                         help="where the models are built (default: $REGISTRY_ENGINE, else duckdb)")

    policies = sub.add_parser("policies", help="list the policy catalog (documents and clauses)")
    policies.add_argument("--page", type=Path, help="write the catalog page (Markdown, Chinese) to this file")

    explain = sub.add_parser("explain", help="why an entitlement exists: clause, facts, arithmetic, ledger")
    explain.add_argument("entitlement_id")
    explain.add_argument("--lang", choices=["zh", "en"], default="zh", help="zh (default) or en")

    firm = sub.add_parser("firm", help="a firm's timeline: events, tier, listed amounts")
    firm.add_argument("uscc")
    firm.add_argument("--as-known-on", type=_date, metavar="D",
                      help="what the registry knew on day D: events published and landed by then")
    firm.add_argument("--lang", choices=["zh", "en"], default="zh", help="zh (default) or en")

    for action, text in (("hold", "take an entitlement's lines out of payment (异议): recorded with who and when"),
                         ("release", "put a held entitlement's lines back (解除暂缓)")):
        holding = sub.add_parser(action, help=text)
        holding.add_argument("entitlement_id")
        holding.add_argument("--reason", required=True, help="why (recorded in the ledger)")
        holding.add_argument("--by", default=None, help="who records it (default: $REGISTRY_ACTOR or the login name)")

    sub.add_parser("verify", help="check the ledger's invariants (and against the auditors' snapshot), read-only")
    return parser


def main(argv: list[str] | None = None) -> int:
    settings.quiet_third_party()
    args = _parser().parse_args(argv)
    db = settings.db_path(args.db or (settings.DEMO_DB if args.command == "demo" else None))
    try:
        return _run(args, db)
    except RegistryError as err:
        print(f"registry {args.command}: {err.one_line()}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace, db: Path) -> int:
    # Imports here, not at the top: `registry --help` should not wait for dbt, GX or pandas.
    if args.command == "init":
        from registry.pipeline.setup import init_database

        print(f"created an empty registry database at {init_database(db)}")
    elif args.command == "demo":
        from registry.pipeline.demo import DEMO_DATE, run_demo

        reports, published = run_demo(db, args.date or DEMO_DATE)
        for report in reports:
            print(report.summary())
        print(published.summary())
        print(f"database: {db}")
    elif args.command == "ingest":
        from registry.ingest.check import stderr_progress
        from registry.ingest.land import ingest_file

        print(ingest_file(args.source, args.file, db, progress=stderr_progress()).summary())
    elif args.command == "sources":
        from registry.ingest.check import run_sources_command

        return run_sources_command(args)
    elif args.command == "nightly":
        from registry.pipeline.nightly import run_nightly

        published = run_nightly(args.date, db, engine=args.engine)
        if args.json:
            print(json.dumps(published.to_json_obj(), ensure_ascii=False, sort_keys=True))
        else:
            print(published.summary())
    elif args.command == "policies":
        from registry.catalog.read import read_catalog
        from registry.catalog.report import catalog_page, policies_text

        catalog = read_catalog()
        if args.page:
            args.page.write_text(catalog_page(catalog), encoding="utf-8")
            print(f"catalog page written to {args.page}")
        else:
            print(policies_text(catalog))
    elif args.command == "explain":
        from registry.explain.entitlement import explain_entitlement

        print(explain_entitlement(db, args.entitlement_id, args.lang))
    elif args.command == "firm":
        if args.as_known_on is not None:
            from registry.explain.known import firm_as_known_on

            print(firm_as_known_on(db, args.uscc, args.as_known_on))
        else:
            from registry.explain.firm import firm_timeline

            print(firm_timeline(db, args.uscc, args.lang))
    elif args.command in ("hold", "release"):
        from registry.ledger.holds import record

        print(record(db, args.entitlement_id, args.command, args.reason, args.by).summary())
    elif args.command == "verify":
        from registry.ledger.invariants import verify_database

        print(verify_database(db))
    return 0


if __name__ == "__main__":
    sys.exit(main())
