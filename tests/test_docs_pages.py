"""What people open renders real content: `make docs`'s site (ops/docs.py) over http on 127.0.0.1,
each page opened in headless Chromium (Debian's `chromium`, installed with apt-get when missing).

* the index page: the latest list's total;
* dbt docs: the project's overview (not dbt's default), a model, the list exposure in the lineage;
* GX Data Docs: the home page lists the loads; the page of the failed load names the bad values and
  their source rows, as the quarantine does;
* the lists folder: the list files of the night.

The nightly HTML report (another branch) is not on this branch; when `*.html` reports appear in the
lists folder the index links them, and this test checks each link opens.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import quote

import duckdb
import pytest
from conftest import DEMO_DATE

from ops import browser
from ops import docs as docs_site
from registry.core import settings

pytestmark = pytest.mark.e2e  # dbt docs, GX Data Docs and the lists served over HTTP, read by headless Chromium


@pytest.fixture(scope="module")
def site(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The demo database copied (with its GX context and lists), the docs built and served."""
    browser.chromium()  # install it now, or fail here with apt-get's message
    folder = tmp_path_factory.mktemp("docs")
    db = folder / "registry.duckdb"
    shutil.copy(demo_db, db)
    shutil.copytree(demo_db.parent / "gx", folder / "gx")
    shutil.copytree(settings.output_dir(demo_db), folder / "lists")
    root = docs_site.build(db, log=lambda _text: None)
    server, _ = docs_site.serve(root)
    try:
        yield {"base": f"http://127.0.0.1:{server.server_port}", "db": db, "root": root}
    finally:
        server.shutdown()


def _text(dom: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", dom))


def test_index_page_shows_the_latest_list_and_links_every_section(site: dict[str, Any]) -> None:
    dom = browser.dump_dom(f"{site['base']}/", budget_ms=1000)
    assert f"latest list {DEMO_DATE}: 19 lines, total 6,190,000.00 yuan" in _text(dom)
    for section in ("dbt/", "gx/", "lists/"):
        assert f'href="{section}"' in dom


def test_dbt_docs_open_on_the_overview_with_models_and_the_list_exposure(site: dict[str, Any]) -> None:
    home = _text(browser.dump_dom(f"{site['base']}/dbt/index.html#!/overview"))
    assert "免申即享 registry: what this project computes" in home and "How to read the lineage" in home
    assert "fct_entitlements" in home  # the project tree lists the models
    assert "Welcome!" not in home  # dbt's default overview
    model = _text(browser.dump_dom(f"{site['base']}/dbt/index.html#!/model/model.registry.aud_list_lines"))
    assert "counts_as_paid" in model and "confirmed and not held" in model  # a described audit column
    exposure = _text(browser.dump_dom(f"{site['base']}/dbt/index.html#!/exposure/exposure.registry.disbursement_list"))
    assert "免申即享兑付清单" in exposure and "Finance office" in exposure and "fct_entitlements" in exposure


def test_dbt_lineage_renders_the_graph_up_to_the_list(site: dict[str, Any], tmp_path: Path) -> None:
    url = (f"{site['base']}/dbt/index.html#!/exposure/exposure.registry.disbursement_list"
           f"?g_v=1&g_i={quote('2+exposure:disbursement_list')}")
    dom = browser.dump_dom(url, budget_ms=15000)
    assert "<canvas" in dom, "no lineage graph drawn"
    png = browser.screenshot(url, tmp_path / "lineage.png", size="1500,900", budget_ms=15000)
    assert png.stat().st_size > 20_000  # a drawn graph, not a blank page


def test_gx_data_docs_show_each_load_and_the_failed_rows(site: dict[str, Any]) -> None:
    home = _text(browser.dump_dom(f"{site['base']}/gx/index.html", budget_ms=3000))
    assert "events" in home and "firms" in home
    with duckdb.connect(str(site["db"]), read_only=True) as con:
        pages = con.execute("select file_name, gx_success, gx_docs from raw.loads order by file_name").fetchall()
        quarantined = dict(con.execute("select field, row_number from raw.quarantine where file_name = "
                                       "'events_bad.csv'").fetchall())
    assert [(f, ok) for f, ok, _ in pages] == [("events.csv", True), ("events_bad.csv", False), ("firms.csv", True)]
    for _file, _ok, page in pages:  # relative to the database's folder: they moved with the copy
        assert (site["db"].parent / page).is_file(), page
    (failed_page,) = [p for _f, ok, p in pages if not ok]
    rel = Path(failed_page).relative_to("gx/uncommitted/data_docs/local_site")
    failed = _text(browser.dump_dom(f"{site['base']}/gx/{rel.as_posix()}", budget_ms=3000))
    assert "Status: Failed" in failed or "Failed" in failed
    assert "Unsuccessful Expectations 3" in failed
    # the bad value, then its count and source row (GX's table: Unexpected Value | Count | row_number)
    for value, field in (("hitec", "event_type"), ("100万", "amount"), ("null", "action")):
        assert re.search(rf"{re.escape(value)} 1 {quarantined[field]}\b", failed), (value, field)


def test_lists_folder_and_reports_open(site: dict[str, Any]) -> None:
    listing = browser.dump_dom(f"{site['base']}/lists/", budget_ms=1000)
    assert f"免申即享兑付清单_{DEMO_DATE}.csv" in listing and f"清单变动报告_{DEMO_DATE}.csv" in listing
    reports = sorted(p.name for p in settings.output_dir(site["db"]).glob("*.html"))
    for name in reports:  # the nightly HTML report, where it exists
        page = _text(browser.dump_dom(f"{site['base']}/lists/{quote(name)}", budget_ms=5000))
        assert "6,190,000" in page or "6190000" in page, name
