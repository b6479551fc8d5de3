"""The ledger over two nights: reversals, raises, 公示 and objections (tests/audit_support.py)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from audit_support import (
    AUDITOR,
    FIRST,
    H1,
    H2,
    H9,
    HOLD_REASON,
    L1,
    L2,
    SECOND,
    clean_environment,
    clone,
    db_of,
    entitlement_of,
    lines_of,
)

from registry.cli import main
from registry.ledger import holds
from registry.ledger.append import LedgerError
from registry.pipeline.nightly import publish_list
from registry.publish import reports

pytestmark = pytest.mark.slow  # the shared history's nights

pytest_plugins = ["audit_fixtures"]  # the shared history: fixtures `states`, `second`

MATCH = "fz-2026-5.a5.1.little-giant-match"
HITECH = "fz-ps-2025.1.1.hitech-above"


def rows(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def test_the_second_night_lists_only_the_corrections(second: Path) -> None:
    assert lines_of(second, SECOND) == {
        H2: [(HITECH, "reversal", "-200000.00", "revoked")],
        L2: [(MATCH, "reversal", "-150000.00", "lowered")],  # 50% of 150万 -> 50% of 120万
        H1: [(HITECH, "reversal", "-200000.00", "retracted")],
        L1: [(MATCH, "award", "200000.00", "raised")],  # 50% of (100万 + 40万)
    }


def test_every_correction_points_at_the_original_line_and_keeps_the_past(second: Path, states) -> None:
    corrections = rows(second, """select r.uscc, r.original_line_id = o.line_id, o.list_date, o.amount
                                   from ledger.lines as r join ledger.lines as o
                                     on o.entitlement_id = r.entitlement_id and o.list_date = ?
                                   where r.list_date = ? order by r.uscc""", [FIRST, SECOND])
    assert [c[1] for c in corrections] == [True] * 4
    # The lines of the first night are exactly what they were when it was published.
    first_then = rows(db_of(states["after_first"]), "select * from ledger.lines order by seq")
    assert rows(second, "select * from ledger.lines where list_date = ? order by seq", [FIRST]) == first_then


def test_nets_after_corrections(second: Path) -> None:
    net = dict(rows(second, "select uscc, sum(amount) from ledger.lines where uscc in (?, ?, ?, ?) group by uscc",
                    [H1, H2, L1, L2]))
    assert net == {H1: Decimal("0.00"), H2: Decimal("0.00"), L1: Decimal("700000.00"), L2: Decimal("600000.00")}


def test_reversal_lines_carry_the_facts_that_removed_their_ground(second: Path) -> None:
    facts = rows(second, """select l.uscc, f.role from ledger.line_facts as f join ledger.lines as l using (line_id)
                             where l.list_date = ? order by 1, 2""", [SECOND])
    assert (H1, "retraction") in facts and (H1, "trigger") in facts
    assert (H2, "revocation") in facts
    assert [(u, r) for u, r in facts if u == L2].count((L2, "base")) == 1  # the corrected 120万 only


def test_the_first_list_is_confirmed_after_its_notice_and_the_second_is_in_notice(second: Path) -> None:
    assert rows(second, "select list_date, notice_days, notice_ends from ledger.lists order by 1") == [
        (FIRST, 7, dt.date(2026, 10, 7)), (SECOND, 7, dt.date(2026, 11, 8))]
    assert rows(second, "select list_date, confirmed_on from ledger.confirmations") == [(FIRST, SECOND)]


def test_a_held_line_does_not_count_as_paid(second: Path) -> None:
    with duckdb.connect(str(second), read_only=True) as con:
        standing = {s.list_date: s for s in reports.standings(con)}
    first = standing[FIRST]
    assert first.confirmed_on == SECOND and first.held == Decimal("200000.00")
    assert first.paid == first.total - Decimal("200000.00")
    assert standing[SECOND].paid == Decimal("0.00")  # still in notice
    held = rows(second, "select uscc, is_held, counts_as_paid from audit.list_lines where uscc = ?", [H9])
    assert held == [(H9, True, False)]
    assert rows(second, "select paid from audit.list_totals where list_date = ?", [FIRST]) == [(first.paid,)]


def test_the_hold_is_recorded_with_who_when_and_why(second: Path) -> None:
    (hold,) = rows(second, "select action, reason, actor, after_list_date, recorded_at from ledger.holds")
    assert hold[:4] == ("hold", HOLD_REASON, AUDITOR, FIRST)
    assert isinstance(hold[4], dt.datetime)


def test_release_puts_the_line_back_and_both_are_recorded(states, tmp_path: Path, capsys) -> None:
    db = clone(states["second"], tmp_path / "state")
    entitlement = entitlement_of(db, H9)
    assert main(["--db", str(db), "release", entitlement, "--reason", "核实无误", "--by", "复核员李四"]) == 0
    assert "解除暂缓" in capsys.readouterr().out
    assert rows(db, "select is_held, counts_as_paid from audit.list_lines where uscc = ?", [H9]) == [(False, True)]
    assert rows(db, "select action, actor from ledger.holds order by hold_seq") == [
        ("hold", AUDITOR), ("release", "复核员李四")]
    # Holding again, releasing twice, holding a line never listed: refused.
    with pytest.raises(LedgerError, match="not held"):
        holds.record(db, entitlement, "release", "again", "x")
    with pytest.raises(LedgerError, match="no published list"):
        holds.record(db, "0000000000000000", "hold", "?", "x")
    assert main(["--db", str(db), "hold", "' or 1=1 --", "--reason", "x"]) == 2
    with pytest.raises(LedgerError, match="needs a reason"):
        holds.record(db, entitlement, "hold", "  ", "x")
    # A reason is stored as given, quotes and all: it reaches SQL only as a parameter.
    odd = "'); drop table ledger.lines; --"
    holds.record(db, entitlement, "hold", odd, "x")
    assert rows(db, "select reason from ledger.holds order by hold_seq desc limit 1") == [(odd,)]


def test_the_next_night_reports_holds_and_releases(states, tmp_path: Path) -> None:
    db = clone(states["second"], tmp_path / "state")
    holds.record(db, entitlement_of(db, H9), "release", "核实无误", "复核员李四")
    with duckdb.connect(str(db), read_only=True) as con:
        changes = reports.night_changes(con, SECOND)
    # Recorded after night 2 was published: not in night 2's report (which must not change) ...
    assert [c.change for c in changes if c.actor] == ["hold"]


def test_a_night_without_models_for_it_is_refused(states, tmp_path: Path) -> None:
    db = clone(states["second"], tmp_path / "state")
    with clean_environment(), pytest.raises(LedgerError, match="built for 2026-11-01"):
        publish_list(dt.date(2026, 11, 2), db)


def test_nightly_json_keeps_its_shape(states, tmp_path: Path, capsys) -> None:
    db = clone(states["second"], tmp_path / "state")
    with clean_environment():
        assert main(["--db", str(db), "nightly", "--date", str(SECOND), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert set(listed) == {"date", "lines", "total"} and listed["total"] == "-350000.00"
    assert {tuple(sorted(line)) for line in listed["lines"]} == {
        ("amount", "clause_id", "entitlement_id", "kind", "uscc")}
    assert sorted(line["kind"] for line in listed["lines"]) == ["award", "reversal", "reversal", "reversal"]
