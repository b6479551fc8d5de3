"""The nightly page (报告_D.html, index.html) as a person sees it: rendered by headless Chromium from
the files the shared history published, with the list's total as printed and real charts, and
nothing loaded from anywhere."""

from __future__ import annotations

import inspect
import re
import subprocess
from pathlib import Path

import pytest
from audit_support import FIRST, SECOND, db_of
from os_packages import require, require_cjk_font

from registry.publish import exports, page

pytestmark = pytest.mark.e2e  # the nightly report rendered by headless Chromium

pytest_plugins = ["audit_fixtures"]  # the shared history: fixtures `states`, `second`


@pytest.fixture(scope="module")
def lists(states: dict[str, Path]) -> Path:
    return db_of(states["second"]).parent / "lists"


@pytest.fixture(scope="module")
def chromium() -> list[str]:
    binary = require("chromium", "chromium")
    require_cjk_font()
    return [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run", "--hide-scrollbars"]


def run_chromium(chromium: list[str], profile: Path, *args: str) -> str:
    done = subprocess.run([*chromium, f"--user-data-dir={profile}", *args], capture_output=True, text=True,
                          timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def dom(chromium: list[str], tmp_path: Path, path: Path) -> str:
    return run_chromium(chromium, tmp_path / "profile", "--dump-dom", path.as_uri())


def test_the_page_shows_the_lists_total_and_its_charts(chromium, lists: Path, tmp_path: Path) -> None:
    shown = dom(chromium, tmp_path, page.report_path(lists, SECOND))
    total = re.search(r'id="list-total" data-yuan="([-\d.]+)">([^<]+)<', shown)
    assert total and total.groups() == ("-350000.00", "-350,000.00")  # the ledger's total, as printed
    charts = re.findall(r'<div class="chart" data-chart="([^"]+)"><svg', shown)
    assert {"按城市", "按政策文件", "按条款", "历次清单趋势"} <= set(charts) and len(charts) >= 6
    assert len(re.findall(r"<rect[^>]*><title>", shown)) >= 15  # bars (each with its figure as a tooltip)
    assert len(re.findall(r"<line", shown)) > 30  # axes and grid lines: drawn, not empty boxes
    for text in ("冲销", "调减", "调增", "异议暂缓", "公示期满确认", "2026-09-30", "2026-11-01", "福州市"):
        assert text in shown, text


def test_the_first_nights_page_shows_what_was_quarantined_and_why(chromium, lists: Path, tmp_path: Path) -> None:
    shown = dom(chromium, tmp_path, page.report_path(lists, FIRST))
    section = shown.split("隔离的行", 1)[1]
    assert "<svg" in section.split("</div></div>", 1)[0]
    assert "hitec" in section and "events" in section and "firms" in section  # per source, with the reason


def test_the_index_links_every_night(chromium, lists: Path, tmp_path: Path) -> None:
    shown = dom(chromium, tmp_path, page.index_path(lists))
    assert re.findall(r'href="(报告_[\d-]+\.html)"', shown) == ["报告_2026-11-01.html", "报告_2026-09-30.html"]
    assert "<svg" in shown


def test_the_page_loads_nothing_from_anywhere(lists: Path) -> None:
    for path in (page.report_path(lists, FIRST), page.report_path(lists, SECOND), page.index_path(lists)):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"<script|<link|<img|<iframe|\bsrc=|@import|url\((?!#)", text, re.I), path.name
        assert set(re.findall(r"https?://[^\s\"'<>)]+", text)) <= {"http://www.w3.org/2000/svg",
                                                                   "http://www.w3.org/1999/xlink"}


def test_a_screenshot_shows_the_page(chromium, lists: Path, tmp_path: Path) -> None:
    from PIL import Image

    picture = tmp_path / "report.png"
    run_chromium(chromium, tmp_path / "profile", "--window-size=1280,2400", f"--screenshot={picture}",
                 page.report_path(lists, SECOND).as_uri())
    with Image.open(picture) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 16)
    assert colours is None or len(colours) > 50  # text and charts, not a blank page


def test_the_page_reads_only_the_ledger_raw_loads_and_reference() -> None:
    source = inspect.getsource(page) + inspect.getsource(exports.read_cities)
    schemas = r"raw|ledger|reference|policy|staging|intermediate|marts|audit"
    tables = set(re.findall(rf"\b(?:from|join)\s+((?:{schemas})\.[a-z_]+)", source))
    assert tables == {"ledger.lists", "ledger.lines", "raw.loads", "raw.quarantine", "reference.cities"}


def test_the_page_is_the_same_on_a_rerun(states, lists: Path) -> None:
    import duckdb

    with duckdb.connect(str(db_of(states["second"])), read_only=True) as con:
        night = exports.read_night(con, FIRST)
    files = exports.render(night)
    assert files["report"] == page.report_path(lists, FIRST).read_bytes()
    assert files["index"] == page.index_path(lists).read_bytes()


def test_a_load_of_the_nights_own_second_counts_for_the_next_night_only() -> None:
    """published_at and ingested_at are whole seconds: a file landed in the second the night was
    published (right after it) must not join that night's page on a rerun (it did: the rerun of a
    night read 3 files where the published page said 2), nor count for two nights."""
    import datetime as dt

    import duckdb

    at = dt.datetime(2026, 11, 1, 22, 0, 0)
    con = duckdb.connect()
    con.execute("create schema ledger; create schema raw")
    con.execute("create table ledger.lists (list_date date, line_count integer, total decimal(18, 2), "
                "published_at timestamp)")
    con.execute("create table ledger.lines (list_date date, amount decimal(18, 2), kind varchar)")
    con.execute("create table raw.loads (source varchar, rows_read integer, rows_landed integer, "
                "rows_quarantined integer, rows_duplicate integer, ingested_at timestamp)")
    con.execute("create table raw.quarantine (source varchar, field varchar, reason varchar, ingested_at timestamp)")
    con.execute("insert into ledger.lists values ('2026-11-01', 0, 0, ?), ('2026-11-02', 0, 0, ?)",
                [at, at + dt.timedelta(days=1)])
    con.execute("insert into raw.loads values ('events', 10, 10, 0, 0, ?), ('events', 7, 6, 1, 0, ?)",
                [at - dt.timedelta(seconds=30), at])
    con.execute("insert into raw.quarantine values ('events', 'uscc', 'bad check character', ?)", [at])
    first = page.read_page_data(con, dt.date(2026, 11, 1))
    second = page.read_page_data(con, dt.date(2026, 11, 2))
    assert first.loads == (("events", 1, 10, 10, 0, 0),) and first.quarantine == ()
    assert second.loads == (("events", 1, 7, 6, 1, 0),)
    assert second.quarantine == (("events", "uscc", "bad check character", 1),)
