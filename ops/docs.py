"""What people open, built and served in one command: `make docs`.

    python -m ops.docs [--db var/demo/registry.duckdb] [--port 8081] [--build-only]

builds, for the registry database `--db` (default: the demo's; `make docs` runs `registry demo`
first when it does not exist):

* dbt docs (`dbt docs generate`: the overview page, every model and column, the lineage graph with
  the exposures) in `dbt_target/` beside the database;
* GX Data Docs (every suite and every stored validation result, one page per load) in
  `gx/uncommitted/data_docs/local_site/` beside the database;
* the published lists and reports: the `lists/` folder beside the database ($REGISTRY_OUTPUT);

links them under one folder (`docs_site/` beside the database, with an index page) and serves
that folder on http://127.0.0.1:PORT/ (dbt docs fetch their JSON, so they need http, not file://).
"""

from __future__ import annotations

import argparse
import functools
import html
import http.server
import os
import sys
import threading
from pathlib import Path

from registry.core import settings

SECTIONS = (("dbt", "dbt docs: what the models compute, the lineage to the list"),
            ("gx", "Great Expectations Data Docs: every suite, every load's validation"),
            ("lists", "Published lists and reports (CSV, XLSX, Parquet, change reports)"))


def site_dir(db: Path) -> Path:
    return db.parent / "docs_site"


def _link(site: Path, name: str, target: Path) -> None:
    link = site / name
    if link.is_symlink() or link.exists():
        link.unlink()
    target.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target.resolve(), target_is_directory=True)


def _latest_list(db: Path) -> str:
    import duckdb

    try:
        with duckdb.connect(str(db), read_only=True) as con:
            row = con.execute("select list_date, line_count, total from ledger.lists order by list_date desc "
                              "limit 1").fetchone()
    except duckdb.Error as err:
        return f"(the database could not be read: {html.escape(str(err))})"
    if row is None:
        return "no list published yet"
    return f"latest list {row[0]}: {row[1]} lines, total {row[2]:,.2f} yuan"


def build(db: Path, log=print) -> Path:
    """Build dbt docs and GX Data Docs for `db`, link them and the lists under docs_site/; the site."""
    from registry.ingest.validation import build_data_docs
    from registry.models import dbt as dbt_runner

    db = db.resolve()
    log(f"dbt docs generate for {db} ...")
    dbt_dir = dbt_runner.docs(db, settings.DEMO_DATE if db == settings.DEMO_DB else settings.today())
    log("GX Data Docs ...")
    gx_index = build_data_docs(settings.gx_project_dir(db))
    site = site_dir(db)
    site.mkdir(parents=True, exist_ok=True)
    _link(site, "dbt", dbt_dir)
    _link(site, "gx", gx_index.parent)
    _link(site, "lists", settings.output_dir(db))
    items = "\n".join(f'<li><a href="{name}/">{html.escape(text)}</a></li>' for name, text in SECTIONS)
    reports = sorted(p.name for p in settings.output_dir(db).glob("*.html"))
    report_items = "\n".join(f'<li><a href="lists/{html.escape(n)}">{html.escape(n)}</a></li>' for n in reports)
    (site / "index.html").write_text(f"""<!doctype html>
<html lang="zh"><head><meta charset="utf-8"><title>免申即享 registry: docs and reports</title>
<style>body{{font-family:sans-serif;max-width:52rem;margin:2rem auto;line-height:1.5}}</style></head>
<body><h1>免申即享 registry</h1>
<p>Database <code>{html.escape(str(db))}</code>: {html.escape(_latest_list(db))}.</p>
<ul>
{items}
</ul>
{"<h2>Reports</h2><ul>" + report_items + "</ul>" if reports else ""}
</body></html>
""", encoding="utf-8")
    log(f"site: {site}")
    return site


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def serve(site: Path, port: int = 0) -> tuple[http.server.ThreadingHTTPServer, threading.Thread]:
    """Serve `site` on 127.0.0.1:port (0: any free port) in a thread; returns (server, thread)."""
    handler = functools.partial(_Quiet, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.docs", description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=settings.DEMO_DB)
    parser.add_argument("--port", type=int, default=int(os.environ.get("DOCS_PORT", "8081")))
    parser.add_argument("--build-only", action="store_true", help="build the pages, do not serve them")
    args = parser.parse_args(argv)
    if not args.db.exists():
        print(f"no registry database at {args.db}: run `make demo` (or pass --db)", file=sys.stderr)
        return 2
    site = build(args.db)
    if args.build_only:
        return 0
    server, thread = serve(site, args.port)
    base = f"http://127.0.0.1:{server.server_port}"
    print(f"\nserving {site} on {base}/ (Ctrl-C stops)\n  dbt docs:      {base}/dbt/\n"
          f"  GX Data Docs:  {base}/gx/\n  lists/reports: {base}/lists/", flush=True)
    try:
        thread.join()
    except KeyboardInterrupt:
        server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
