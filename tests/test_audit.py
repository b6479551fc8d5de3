"""The auditors' side: the read-only snapshot, the audit views, and the ten questions of
docs/auditing.md, each run as written against the snapshot of the shared history."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from audit_support import FIRST, H1, H9, L1, L2, SECOND, clone, db_of, ledger_content

from registry.core import settings
from registry.ledger import holds, snapshot

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


def answer(snap: Path, number: int) -> list[list[tuple]]:
    statements = list(questions().values())[number - 1]
    with duckdb.connect(str(snap), read_only=True) as con:
        return [con.execute(sql).fetchall() for sql in statements]


def test_the_doc_asks_ten_questions_each_with_sql() -> None:
    asked = questions()
    assert len(asked) == 10 and all(asked.values())


def test_the_snapshot_is_read_only_and_holds_the_ledger(states, snap: Path) -> None:
    assert snap.stat().st_mode & 0o777 == 0o444
    assert ledger_content(snap) == ledger_content(db_of(states["second"]))
    with duckdb.connect(str(snap), read_only=True) as con, pytest.raises(duckdb.Error):
        con.execute("insert into ledger.holds select * from ledger.holds")
    assert sorted(p.name for p in snap.parent.iterdir()) == ["registry.duckdb"]


def test_a_snapshot_is_republished_only_when_stale(states, tmp_path: Path) -> None:
    db = clone(states["second"], tmp_path / "state")
    assert snapshot.publish(db) is None  # already holds this ledger
    holds.record(db, ledger_content(db)["holds"][0][1], "release", "核实无误", "复核员李四")
    assert snapshot.publish(db) == snapshot.snapshot_path(db)
    assert ledger_content(snapshot.snapshot_path(db))["holds"] == ledger_content(db)["holds"]


@pytest.mark.parametrize("number", range(1, 11))
def test_each_question_runs_on_the_snapshot(snap: Path, number: int) -> None:
    answer(snap, number)


def test_the_answers(snap: Path) -> None:
    trail = answer(snap, 1)[0]
    assert {row[9] for row in trail} == {"trigger", "base"} and {row[0] for row in trail} == {FIRST, SECOND}
    assert all(len(row[16]) == 64 and row[17] > 0 for row in trail)
    assert answer(snap, 2) == [[]]  # nothing listed twice
    assert answer(snap, 3) == [[]]  # ledger lines add up to every list
    corrected = {row[1]: row[5] for row in answer(snap, 4)[0]}
    assert corrected[L2] == "lowered" and corrected[H1] == "retracted" and corrected[L1] == "raised"
    retracted = {(row[2], row[5]) for row in answer(snap, 5)[0]}
    assert (H1, "trigger") in retracted and (L2, "base") in retracted
    held, history_rows = answer(snap, 7)
    assert [row[1] for row in held] == [H9] and len(history_rows) == 1
    per_city, per_list = answer(snap, 8)
    assert {row[0] for row in per_city} == {"fuzhou", "xiamen"}
    assert [row[0] for row in per_list] == [FIRST, SECOND] and per_list[0][5] == SECOND
    assert any(row[7] for row in answer(snap, 10)[0])  # draft clauses are listed and flagged


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
