"""The auditors' side: the read-only snapshot and its Parquet set, the audit views, and the ten
questions of docs/auditing.md, each run as written: on the snapshot of the shared history and of the
demo (where each returns rows), and on the demo's Parquet set with the DuckDB 1.5 CLI that auditors
get from the package registries (it cannot open a DuckDB 2.0 file)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from audit_support import FIRST, H1, H9, L1, L2, SECOND, clone, db_of, ledger_content

from registry.core import settings
from registry.ledger import holds, snapshot

pytestmark = pytest.mark.e2e  # the auditors' questions on a published snapshot and Parquet, with the DuckDB CLI

OLD_DUCKDB_CLI = "duckdb-cli==1.5.6"  # what the package registries give an auditor

pytest_plugins = ["audit_fixtures"]  # the shared history: fixtures `states`, `second`

DOC = settings.REPO_ROOT / "docs" / "auditing.md"


@pytest.fixture(scope="module")
def snap(states: dict[str, Path]) -> Path:
    return snapshot.snapshot_path(db_of(states["second"]))


def questions() -> dict[str, list[str]]:
    """Question heading -> the SQL statements under it."""
    out: dict[str, list[str]] = {}
    part = DOC.read_text(encoding="utf-8").split("\n## Ten questions", 1)[1].split("\n## ", 1)[0]
    for section in re.split(r"^### ", part, flags=re.M)[1:]:
        title = section.splitlines()[0]
        blocks = re.findall(r"```sql\n(.*?)```", section, re.S)
        out[title] = [s.strip() for block in blocks for s in block.split(";") if s.strip()]
    return out


def statements() -> list[tuple[int, int, str]]:
    """(question number, statement number, SQL) of every statement of the doc."""
    return [(q, i, sql) for q, sqls in enumerate(questions().values(), start=1) for i, sql in enumerate(sqls, 1)]


def answer(snap: Path, number: int) -> list[list[tuple]]:
    statements = list(questions().values())[number - 1]
    with duckdb.connect(str(snap), read_only=True) as con:
        return [con.execute(sql).fetchall() for sql in statements]


@pytest.fixture(scope="module")
def demo(demo_db: Path) -> Path:
    """The demo (`registry demo`, conftest's demo_db): its database, read only."""
    return demo_db


def uv() -> str:
    found = settings.REPO_ROOT / ".tools" / "bin" / "uv"
    if found.exists():
        return str(found)
    if shutil.which("uv"):
        return str(shutil.which("uv"))
    pytest.fail("uv is needed to install the auditors' DuckDB CLI (make setup installs it in .tools/)")


def old_cli(folder: Path, sql: str) -> list[dict]:
    """Run `sql` with the DuckDB 1.5 CLI in `folder` after its views.sql; the rows as JSON."""
    done = subprocess.run([uv(), "run", "--no-project", "--quiet", "--with", OLD_DUCKDB_CLI, "--", "duckdb",
                           "-json", "-init", "views.sql", "-c", sql], cwd=folder, capture_output=True, text=True,
                          timeout=300, check=False, env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"})
    assert done.returncode == 0 and "Error" not in done.stderr, done.stderr[-2000:]
    out = done.stdout.strip()
    return json.loads(out) if out else []


def test_the_doc_asks_ten_questions_each_with_sql() -> None:
    asked = questions()
    assert len(asked) == 10 and all(asked.values())


def test_the_snapshot_is_read_only_and_holds_the_ledger(states, snap: Path) -> None:
    assert snap.stat().st_mode & 0o777 == 0o444
    assert ledger_content(snap) == ledger_content(db_of(states["second"]))
    with duckdb.connect(str(snap), read_only=True) as con, pytest.raises(duckdb.Error):
        con.execute("insert into ledger.holds select * from ledger.holds")
    names = sorted(p.name for p in snap.parent.iterdir())
    assert names[0].startswith(".parquet-") and names[1:] == [".registry.duckdb.spare", "parquet", "registry.duckdb"]
    assert (snap.parent / ".registry.duckdb.spare").stat().st_mode & 0o777 == 0o444
    assert (snap.parent / "parquet").is_symlink()


def test_a_snapshot_is_republished_only_when_stale(states, tmp_path: Path) -> None:
    db = clone(states["second"], tmp_path / "state")
    assert snapshot.publish(db) is None  # already holds this ledger
    holds.record(db, ledger_content(db)["holds"][0][1], "release", "核实无误", "复核员李四")
    assert snapshot.publish(db) == snapshot.snapshot_path(db)
    assert ledger_content(snapshot.snapshot_path(db))["holds"] == ledger_content(db)["holds"]


def _hold_toggled(db: Path) -> None:
    """A new ledger state: the held entitlement of the shared history released, or held again."""
    entitlement = ledger_content(db)["holds"][0][1]
    with duckdb.connect(str(db), read_only=True) as con:
        held = entitlement in holds.held_now(con)
    holds.record(db, entitlement, "release" if held else "hold", "核实", "复核员李四")


def _reader(path: Path) -> subprocess.Popen:
    """Another process with `path` open read-only, as an auditor's session: answers each line it is
    sent with the ledger's line count and the holds, as it sees them."""
    code = ("import duckdb, sys\n"
            "con = duckdb.connect(sys.argv[1], read_only=True)\n"
            "print('open', flush=True)\n"
            "for _ in sys.stdin:\n"
            "    print(con.execute('select (select count(*) from ledger.lines), "
            "(select count(*) from ledger.holds)').fetchone(), flush=True)\n")
    reader = subprocess.Popen([sys.executable, "-c", code, str(path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    assert reader.stdout.readline().strip() == "open"
    return reader


def _ask(reader: subprocess.Popen) -> str:
    reader.stdin.write("?\n")
    reader.stdin.flush()
    return reader.stdout.readline().strip()


def test_a_night_publishes_the_snapshot_by_difference(states, tmp_path: Path) -> None:
    db = clone(states["second"], tmp_path / "state")
    target = snapshot.snapshot_path(db)
    spare = target.with_name(".registry.duckdb.spare")
    _hold_toggled(db)
    snapshot.publish(db)
    _hold_toggled(db)
    reused, before = spare.stat().st_ino, target.stat().st_ino
    assert snapshot.publish(db) == target
    # the spare was rewritten in place and swapped in; the snapshot it replaced is the next spare
    assert target.stat().st_ino == reused and spare.stat().st_ino == before
    assert target.read_bytes() == db.read_bytes()  # an image of the live file (checkpointed)
    assert ledger_content(target) == ledger_content(db) and target.stat().st_mode & 0o777 == 0o444
    assert ledger_content(spare)["holds"] != ledger_content(db)["holds"]  # the night before


def test_a_spare_an_auditor_still_reads_is_never_written(states, tmp_path: Path) -> None:
    db = clone(states["second"], tmp_path / "state")
    target = snapshot.snapshot_path(db)
    _hold_toggled(db)
    snapshot.publish(db)
    reader = _reader(target)  # opened before the next swap: it keeps this file
    try:
        seen = _ask(reader)
        _hold_toggled(db)
        snapshot.publish(db)  # the file the reader has open becomes the spare
        _hold_toggled(db)
        held_inode = target.with_name(".registry.duckdb.spare").stat().st_ino
        assert snapshot.publish(db) == target
        assert target.stat().st_ino != held_inode  # copied whole: the spare in use was left alone
        assert _ask(reader) == seen  # the auditor's session still reads its own night, intact
        assert ledger_content(target) == ledger_content(db)
    finally:
        reader.stdin.close()
        reader.wait(timeout=30)


def test_a_spare_a_crash_left_linked_to_the_snapshot_is_never_written(states, tmp_path: Path) -> None:
    db = clone(states["second"], tmp_path / "state")
    target = snapshot.snapshot_path(db)
    spare = target.with_name(".registry.duckdb.spare")
    spare.unlink()
    os.link(target, spare)  # killed between linking the spare and the swap
    published = target.read_bytes()
    keep = os.open(target, os.O_RDONLY)  # the file auditors have: it must not change under them
    try:
        _hold_toggled(db)
        assert snapshot.publish(db) == target
        assert os.pread(keep, len(published) + 1, 0) == published
        assert ledger_content(target) == ledger_content(db)
    finally:
        os.close(keep)


def test_patch_file_writes_only_the_blocks_that_differ(tmp_path: Path) -> None:
    block = snapshot.BLOCK
    source, copy = tmp_path / "live", tmp_path / "copy"
    data = bytearray(os.urandom(block * 40 + 123))
    copy.write_bytes(bytes(data) + b"tail that goes")
    data[block * 3 + 5] ^= 0xFF
    data[block * 39 + 7] ^= 0xFF
    source.write_bytes(bytes(data))
    assert snapshot.patch_file(source, copy) == (3, 41)  # two changed, the last one longer in the copy
    assert copy.read_bytes() == source.read_bytes()
    assert snapshot.patch_file(source, copy) == (0, 41)


def test_patch_file_finds_a_duckdb_files_changed_blocks_by_their_checksums(tmp_path: Path) -> None:
    """A real DuckDB file changed by a night's kind of writes (rows added, a table replaced, a
    checkpoint): the copy patched by block checksums is byte-identical and opens with the new rows."""
    live, copy = tmp_path / "live.duckdb", tmp_path / "copy.duckdb"
    with duckdb.connect(str(live)) as con:
        con.execute("create table events as select i, md5(i::varchar) as text from range(400000) as t(i)")
        con.execute("create table marts as select i % 1000 as k, count(*) as n from events group by 1")
    shutil.copyfile(live, copy)
    with duckdb.connect(str(live)) as con:
        con.execute("insert into events select i, 'new' from range(400000, 450000) as t(i)")
        con.execute("create or replace table marts as select i % 999 as k, count(*) as n from events group by 1")
        con.execute("force checkpoint")
    size = live.stat().st_size
    assert (size - snapshot.HEADERS) % snapshot.BLOCK == 0, "the layout patch_file reads"
    written, total = snapshot.patch_file(live, copy)
    assert 0 < written < total == (size - snapshot.HEADERS) // snapshot.BLOCK
    assert copy.read_bytes() == live.read_bytes()
    with duckdb.connect(str(copy), read_only=True) as con:
        assert con.execute("select count(*), count(*) filter (text = 'new') from events").fetchone() == (450000, 50000)
    assert snapshot.patch_file(live, copy) == (0, total)


@pytest.mark.parametrize("number", range(1, 11))
def test_each_question_runs_on_the_snapshot(snap: Path, number: int) -> None:
    answer(snap, number)


def test_the_answers(snap: Path) -> None:
    trail = answer(snap, 1)[0]
    assert {row[9] for row in trail} == {"trigger", "base"} and {row[0] for row in trail} == {FIRST, SECOND}
    assert all(len(row[16]) == 64 and row[17] > 0 for row in trail)
    assert [row[1] for row in answer(snap, 2)[0]] == [0, 0]  # nothing listed twice
    per_list, whole = answer(snap, 3)
    assert [row[0] for row in per_list] == [FIRST, SECOND] and all(row[5] for row in per_list) and whole[0][2]
    corrected = {row[1]: row[5] for row in answer(snap, 4)[0] if row[5]}
    assert corrected[L2] == "lowered" and corrected[H1] == "retracted" and corrected[L1] == "raised"
    retracted = {(row[2], row[5]) for row in answer(snap, 5)[0] if row[8] is not None}
    assert (H1, "trigger") in retracted and (L2, "base") in retracted
    assert {row[0] for row in answer(snap, 6)[0]} == {SECOND}
    held, history_rows = answer(snap, 7)
    assert [row[1] for row in held if row[5]] == [H9] and held[0][1] == H9
    assert [(row[0], row[2]) for row in history_rows] == [(FIRST, "hold"), (SECOND, None)]
    per_city, per_list = answer(snap, 8)
    assert {row[0] for row in per_city} == {"fuzhou", "xiamen"}
    assert [row[0] for row in per_list] == [FIRST, SECOND] and per_list[0][5] == SECOND
    assert any(row[7] for row in answer(snap, 10)[0])  # draft clauses are listed and flagged


@pytest.mark.parametrize(("question", "number", "sql"), statements(), ids=[f"q{q}.{i}" for q, i, _ in statements()])
def test_each_query_returns_rows_on_the_demo(demo: Path, question: int, number: int, sql: str) -> None:
    with duckdb.connect(str(snapshot.snapshot_path(demo)), read_only=True) as con:
        assert con.execute(sql).fetchall(), f"question {question}, statement {number} returns nothing on the demo"


def test_the_old_duckdb_cli_cannot_open_the_snapshot_but_answers_every_question_on_parquet(demo: Path) -> None:
    """What an auditor has: the DuckDB CLI 1.5 from the registries. It cannot open the DuckDB 2.0 file;
    on the Parquet set (after views.sql) every query of the doc gives what DuckDB 2.0 gives on the file."""
    folder = snapshot.parquet_path(demo)
    done = subprocess.run([uv(), "run", "--no-project", "--quiet", "--with", OLD_DUCKDB_CLI, "--", "duckdb",
                           "-readonly", str(snapshot.snapshot_path(demo)), "-c", "select 1"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode != 0 or "Error" in done.stderr + done.stdout  # why the Parquet set exists
    assert old_cli(folder, "select version() as v") == [{"v": "v1.5.6"}]
    with duckdb.connect(str(snapshot.snapshot_path(demo)), read_only=True) as con:
        for question, number, sql in statements():
            expected = con.execute(sql).fetchall()
            got = old_cli(folder, sql)
            assert len(got) == len(expected) > 0, (question, number)
        total = con.execute("select sum(amount) from ledger.lines").fetchone()[0]
    assert old_cli(folder, "select sum(amount)::varchar as t from ledger.lines") == [{"t": f"{total:.2f}"}]


def test_the_parquet_set_holds_the_snapshot_and_is_swapped_whole(states, tmp_path: Path) -> None:
    db = clone(states["second"], tmp_path / "state")
    folder = snapshot.parquet_path(db)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    with duckdb.connect(str(snapshot.snapshot_path(db)), read_only=True) as con:
        for name, rows in manifest["tables"].items():
            assert con.execute(f"select count(*) from {name}").fetchone()[0] == rows, name  # noqa: S608
    assert {"ledger.lines", "ledger.lists", "ledger.holds", "audit.line_trail", "audit.list_totals",
            "raw.quarantine"} <= set(manifest["tables"])
    with duckdb.connect() as con:
        amount_type = con.execute("select column_type from (describe select * from read_parquet(?)) "
                                  "where column_name = 'amount'", [str(folder / "ledger.lines.parquet")]).fetchone()
    assert amount_type == ("DECIMAL(18,2)",)
    old_target = folder.resolve()
    by_load = {p.name: p.stat().st_ino for p in (folder / "raw.events").iterdir()}
    assert len(by_load) >= 2 and all(name.startswith("events-") for name in by_load)  # a file per load
    reader = (folder / "ledger.holds.parquet").open("rb")  # an auditor reading the old set
    assert snapshot.publish_parquet(db) is None  # already holds this ledger
    holds.record(db, ledger_content(db)["holds"][0][1], "release", "核实无误", "复核员李四")
    snapshot.publish(db)
    new_target = snapshot.publish_parquet(db)
    assert new_target == folder.resolve() != old_target and not old_target.exists()
    assert reader.read(4) == b"PAR1"  # the old file stays readable while open
    reader.close()
    # no load changed: the new set links the night before's files instead of writing them again
    assert {p.name: p.stat().st_ino for p in (folder / "raw.events").iterdir()} == by_load
    with duckdb.connect() as con:
        assert con.execute("select count(*) from read_parquet(?)",
                           [str(folder / "ledger.holds.parquet")]).fetchone() == (2,)
    shutil.rmtree(new_target)  # missing: the next run writes it again
    assert snapshot.publish_parquet(db) == folder.resolve()


MACHINE_PATH = re.compile(r"/work/|/home/[a-z_]+/|/Users/[A-Za-z]|/tmp/pytest-|[A-Z]:\\Users\\")
SECRET = re.compile(r"(password|passwd|secret_key|api_key|access_token)\s*[:=]\s*['\"][^'\"]{6,}|"
                    r"BEGIN (RSA |OPENSSH |EC )?PRIVATE KEY", re.IGNORECASE)


def test_no_secret_or_machine_path_in_the_repo() -> None:
    """Source, SQL, configuration and docs name no path of a machine and hold no secret."""
    import subprocess

    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                            cwd=settings.REPO_ROOT, capture_output=True, text=True, check=False)
    if listed.returncode != 0:
        pytest.skip("not a git checkout")
    suffixes = {".py", ".sql", ".yml", ".yaml", ".md", ".toml", ".cfg", ".ini", ".txt", ".sh"}
    offending = []
    for name in listed.stdout.splitlines():
        path = settings.REPO_ROOT / name
        if path.suffix in suffixes and path.is_file() and path != Path(__file__):
            text = path.read_text(encoding="utf-8", errors="replace")
            offending += [f"{name}: {m.group(0)}" for m in (*MACHINE_PATH.finditer(text), *SECRET.finditer(text))]
    assert offending == []
