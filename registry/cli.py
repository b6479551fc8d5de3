"""The `registry` command: what operators, tests, docs and the Airflow DAGs call.

Commands that write (init, demo, ingest, nightly, hold, release) hold the run lock
(`registry.store.lock`) for their whole run: a second writer is refused at once with who holds it
and since when, or waits up to `--wait SECONDS`. Every error an operator can meet prints one line
and its hint, never a traceback.

Long steps show progress on stderr (rich): rows checked and landed while a file is ingested, each
dbt model and test as it finishes during a night's build, each publishing step. On a terminal that
is a live display; elsewhere (a log file, cron) one plain line per step and per 10% of dbt's nodes.
`--quiet` shows none of it (cron): the result (and any error) is printed all the same.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import signal
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

from registry.core import settings
from registry.core.errors import RegistryError


class Display:
    """Progress of long steps on stderr; silent when quiet."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self.started = time.monotonic()
        self._progress: Any = None
        self._tasks: dict[str, Any] = {}
        self._dbt_task: Any = None
        self._dbt_shown = -1
        self.live = False
        if not quiet:
            from rich.console import Console

            self.console = Console(stderr=True, highlight=False)
            self.live = self.console.is_terminal

    def __enter__(self) -> Display:
        if self.live:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )

            self._progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                      MofNCompleteColumn(), TimeElapsedColumn(), console=self.console,
                                      transient=False)
            self._progress.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def _plain(self, text: str) -> None:
        if not self.quiet:
            self.console.print(f"[{time.monotonic() - self.started:6.1f}s] {text}", markup=False, soft_wrap=True)

    def step(self, text: str) -> None:
        """A step starts (a file to ingest, catalog, dbt build, ledger, files, snapshot)."""
        self._finish_rows(clear=True)
        if self._progress is not None:
            self._progress.console.print(f"· {text}", markup=False)
        else:
            self._plain(text)

    def _finish_rows(self, clear: bool = False) -> None:
        if self._progress is not None:
            for task in self._tasks.values():
                self._progress.update(task, completed=self._progress.tasks[task].total)
        if clear:
            self._tasks = {}

    def rows(self, stage: str, done: int, total: int) -> None:
        """Ingest progress: `stage` (checking rows, validating, landing), done of total."""
        if self.quiet:
            return
        if self._progress is None:
            if done in (0, total) and total:
                self._plain(f"{stage}: {done}/{total}")
            return
        task = self._tasks.get(stage)
        if task is None:
            self._finish_rows()  # a new stage: the one before is done
            task = self._tasks[stage] = self._progress.add_task(stage, total=total or 1)
        self._progress.update(task, completed=done if total else 1, total=total or 1)

    def dbt_line(self, line: str) -> None:
        """One line of dbt's output: a finished node advances the bar; failures are always shown."""
        from registry.models.dbt import node_progress

        if self.quiet:
            return
        node = node_progress(line)
        text = line.split("  ", 1)[-1].strip() if "  " in line else line.strip()
        if node is None:
            if any(word in line for word in ("Running with dbt", "Found ", "Completed with", "Failure in",
                                             "Error in", "Done. PASS")):
                self.step(f"dbt: {text}")
                if self._progress is not None and self._dbt_task is not None and "Done. PASS" in line:
                    self._progress.update(self._dbt_task, description="dbt build")
            return
        done, total, status = node
        if status == "START":
            return
        if status in ("ERROR", "FAIL", "WARN"):
            self.step(f"dbt: {text}")
        if self._progress is None:
            tenth = done * 10 // total
            if tenth > self._dbt_shown:  # nodes finish out of order on several threads
                self._dbt_shown = tenth
                self._plain(f"dbt build: {done}/{total} nodes")
            return
        if self._dbt_task is None:
            self._dbt_task = self._progress.add_task("dbt build", total=total)
        found = re.search(r"([\w.]+) \.{2,}", text)
        name = found.group(1) if found else ""
        self._progress.update(self._dbt_task, completed=done, total=total, description=f"dbt build · {name[:48]}")


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


WRITERS = frozenset({"init", "demo", "ingest", "nightly", "hold", "release"})
CREATORS = frozenset({"init", "demo"})  # the only commands that may create a database


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds") from err
    if value < 0:
        raise argparse.ArgumentTypeError("--wait takes 0 or more seconds")
    return value


# subcommand -> (description, example): `registry COMMAND --help` shows both.
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("Create an empty registry database. Every other command except demo refuses a database that "
             "does not exist, so a typo in --db never creates one.",
             "registry --db /srv/registry/registry.duckdb init"),
    "demo": ("Run the whole pipeline on the bundled sample data (invented firms) into a fresh database "
             f"({settings.DEMO_DB.relative_to(settings.REPO_ROOT)}): init, ingest the samples, publish the list.",
             "registry demo"),
    "ingest": ("Land one file of a source: read, map to the contract, check every row (bad rows go to "
               "raw.quarantine with the reason), validate the batch with the source's Great Expectations suite "
               "(result and Data Docs in gx/ beside the database), land the rest. The same file twice adds "
               "nothing.",
               "registry --db my.duckdb ingest events 2026-10-31_events.csv"),
    "sources": ("The declarative sources (sources/<name>/source.yml): list them, or dry-run a file against one.",
                "registry sources check little_giant 名单.xlsx"),
    "nightly": ("Build the models and publish the list for one night: check the date (a date before the last "
                "night published is refused at once), load the catalog, dbt build, append the ledger, write "
                "the list files and the auditors' snapshot. A night already published is returned unchanged.",
                "registry --db my.duckdb nightly --date 2026-11-01 --json"),
    "policies": ("The policy catalog (policies/*.yml): documents, clauses, amounts and list status.",
                 "registry policies --page catalog.md"),
    "explain": ("Why an entitlement exists: the clause text, the facts it rests on, the arithmetic, its ledger "
                "lines.", "registry --db my.duckdb explain 3f2a9c0d1e2b4a5c"),
    "firm": ("A firm's timeline: events, tier on each date, listed amounts; --as-known-on D shows what the "
             "registry knew that day.", "registry --db my.duckdb firm 91350102MA5JYYF90E --as-known-on 2026-09-03"),
    "hold": ("Take an entitlement's lines out of payment (公示 objection, 异议): recorded with who and when.",
             'registry --db my.duckdb hold 3f2a9c0d1e2b4a5c --reason "异议：名称不符" --by 张三'),
    "release": ("Put a held entitlement's lines back (解除暂缓).",
                'registry --db my.duckdb release 3f2a9c0d1e2b4a5c --reason "核实无误"'),
    "verify": ("Check every ledger invariant (hash chains, totals, reconciliation with the models) and the "
               "auditors' snapshot against the ledger; read-only.", "registry --db my.duckdb verify"),
}


def _add(sub: Any, name: str, help_text: str) -> argparse.ArgumentParser:
    description, example = COMMANDS[name]
    return sub.add_parser(name, help=help_text, description=textwrap.fill(description, 88),
                          epilog=f"example:\n  {example}",
                          formatter_class=argparse.RawDescriptionHelpFormatter)


def _parser() -> argparse.ArgumentParser:
    db_help = f"DuckDB file (default: ${settings.DB_ENV_VAR} or {settings.DEFAULT_DB})"
    wait_help = ("when another registry process is writing the database, wait up to SECONDS for it to finish "
                 "(default: refuse at once, saying who writes and since when)")
    quiet_help = "no progress display (for cron): only the result, or the error"
    parser = argparse.ArgumentParser(
        prog="registry", description="免申即享 enterprise subsidy registry: qualification events in, exact "
        "disbursement lists out. `registry COMMAND --help` describes each command with an example.",
        epilog="example:\n  registry demo\n  registry --db my.duckdb nightly --date 2026-11-01",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", help=db_help)
    parser.add_argument("--wait", type=_seconds, default=0.0, metavar="SECONDS", help=wait_help)
    parser.add_argument("--quiet", "-q", action="store_true", help=quiet_help)
    # `--db`, `--wait` and `--quiet` are accepted after the subcommand too (registry nightly --db X ...)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", default=argparse.SUPPRESS, help=db_help)
    common.add_argument("--wait", type=_seconds, default=argparse.SUPPRESS, metavar="SECONDS", help=wait_help)
    common.add_argument("--quiet", "-q", action="store_true", default=argparse.SUPPRESS, help=quiet_help)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_subparser_class(common))

    _add(sub, "init", "create an empty registry database (every other command except demo needs one)")

    demo = _add(sub, "demo", "run the whole pipeline on the bundled sample data into a fresh database")
    demo.add_argument("--date", type=_date, default=None, help="list date (default 2026-11-01)")

    ingest = _add(sub, "ingest", "land a file of a source (a spec in sources/: events, firms, hitech, ...)")
    ingest.add_argument("source", help="source name (`registry sources list`)")
    ingest.add_argument("file", type=Path)

    sources = _add(sub, "sources", "the declarative sources (sources/<name>/source.yml): list them, dry-run a file")
    sources_sub = sources.add_subparsers(dest="sources_command", required=True)
    sources_sub.add_parser("list", help="every source spec: contract, format, schedule, inbox files, GX suite",
                           description="Every source spec: contract, format, schedule, inbox files, GX suite "
                                       "(a broken spec is listed with its error).",
                           epilog="example:\n  registry sources list",
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    check = sources_sub.add_parser("check", help="what FILE would land, what would be quarantined and why, and the "
                                                 "GX result, without writing anything",
                                   description="Dry run: what FILE would land, what would be quarantined and why, "
                                               "and the GX result; nothing is written. SPEC may be the path of "
                                               "a spec being written.",
                                   epilog="example:\n  registry sources check sources/my_source/source.yml 名单.xlsx",
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    check.add_argument("spec", help="a source name, or the path of a spec file being written")
    check.add_argument("file", type=Path)
    check.add_argument("--json", action="store_true", help="print the result as one JSON object")
    check.add_argument("--limit", type=int, default=50, help="rows shown per section (default 50)")

    nightly = _add(sub, "nightly", "build the models and publish the list for one night")
    nightly.add_argument("--date", type=_date, required=True, help="the list date, YYYY-MM-DD")
    nightly.add_argument("--json", action="store_true", help="print the published list as one JSON object")
    nightly.add_argument("--engine", choices=["duckdb", "spark"], default=None,
                         help="where the models are built (default: $REGISTRY_ENGINE, else duckdb)")

    policies = _add(sub, "policies", "list the policy catalog (documents and clauses)")
    policies.add_argument("--page", type=Path, help="write the catalog page (Markdown, Chinese) to this file")

    explain = _add(sub, "explain", "why an entitlement exists: clause, facts, arithmetic, ledger")
    explain.add_argument("entitlement_id")
    explain.add_argument("--lang", choices=["zh", "en"], default="zh", help="zh (default) or en")

    firm = _add(sub, "firm", "a firm's timeline: events, tier, listed amounts")
    firm.add_argument("uscc")
    firm.add_argument("--as-known-on", type=_date, metavar="D",
                      help="what the registry knew on day D: events published and landed by then")
    firm.add_argument("--lang", choices=["zh", "en"], default="zh", help="zh (default) or en")

    for action, text in (("hold", "take an entitlement's lines out of payment (异议): recorded with who and when"),
                         ("release", "put a held entitlement's lines back (解除暂缓)")):
        holding = _add(sub, action, text)
        holding.add_argument("entitlement_id")
        holding.add_argument("--reason", required=True, help="why (recorded in the ledger)")
        holding.add_argument("--by", default=None, help="who records it (default: $REGISTRY_ACTOR or the login name)")

    _add(sub, "verify", "check the ledger's invariants (and against the auditors' snapshot), read-only")
    return parser


def main(argv: list[str] | None = None) -> int:
    settings.quiet_third_party()
    if threading.current_thread() is threading.main_thread():
        # Ctrl-C stops a command cleanly (KeyboardInterrupt, below), also when it was started as a
        # background job of a script, which inherits SIGINT ignored
        signal.signal(signal.SIGINT, signal.default_int_handler)
    for stream in (sys.stdout, sys.stderr):  # a value with a lone surrogate must not crash a report
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    words = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(words)
    try:
        db = settings.db_path(args.db or (settings.DEMO_DB if args.command == "demo" else None))
        args.db_path = db
        with Display(quiet=getattr(args, "quiet", False)) as display:
            if args.command not in WRITERS:
                return _run(args, db, display)
            from registry.store.lock import writer_lock

            def note(text: str) -> None:
                print(f"registry {args.command}: note: {text}", file=sys.stderr)

            with writer_lock(db, "registry " + " ".join(words), wait=args.wait, create=args.command in CREATORS,
                             note=note):
                return _run(args, db, display)
    except RegistryError as err:
        print(f"registry {args.command}: {err.one_line()}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C: every writing step is safe to run again (tests/test_crash_safety.py)
        print(f"registry {args.command}: interrupted; run it again to finish (each step is safe to rerun)",
              file=sys.stderr)
        return 130


def _run(args: argparse.Namespace, db: Path, display: Display) -> int:
    # Imports here, not at the top: `registry --help` should not wait for dbt, GX or pandas.
    if args.command == "init":
        from registry.pipeline.setup import init_database

        print(f"created an empty registry database at {init_database(db)}")
    elif args.command == "demo":
        from registry.pipeline.demo import DEMO_DATE, run_demo

        reports, published = run_demo(db, args.date or DEMO_DATE, progress=display.rows, on_step=display.step,
                                      on_line=display.dbt_line)
        for report in reports:
            print(report.summary())
        print(published.summary())
        print(f"database: {db}")
    elif args.command == "ingest":
        from registry.ingest.land import ingest_file

        print(ingest_file(args.source, args.file, db, progress=display.rows).summary())
    elif args.command == "sources":
        from registry.ingest.check import run_sources_command

        return run_sources_command(args)
    elif args.command == "nightly":
        from registry.pipeline.nightly import run_nightly

        published = run_nightly(args.date, db, engine=args.engine, on_step=display.step, on_line=display.dbt_line)
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
