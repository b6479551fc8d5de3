"""The ledger's invariants: enforced by DuckDB's constraints where it can, checked every night
where it cannot, and the night refused when one fails."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from audit_support import H9, L1, SECOND, clean_environment, clone, db_of

from registry.cli import main
from registry.ledger import append as ledger
from registry.ledger import invariants
from registry.ledger import schema as ledger_schema
from registry.pipeline.nightly import publish_list

pytestmark = pytest.mark.slow  # the shared history's nights

pytest_plugins = ["audit_fixtures"]  # the shared history: fixtures `states`, `second`

NEXT = SECOND + dt.timedelta(days=1)


@pytest.fixture
def db(states: dict[str, Path], tmp_path: Path) -> Path:
    return clone(states["second"], tmp_path / "state")


def counts(db: Path) -> tuple:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("select (select count(*) from ledger.lines), (select count(*) from ledger.lists)").fetchone()


def test_the_history_satisfies_every_invariant(db: Path, capsys) -> None:
    assert main(["--db", str(db), "verify"]) == 0
    assert "every invariant holds" in capsys.readouterr().out
    with duckdb.connect(str(db), read_only=True) as con:
        assert invariants.check_ledger(con) == []
        assert ledger.reconcile(con) == []


@pytest.mark.parametrize("statement", [
    "update ledger.lines set amount = amount + 1 where seq = 1",
    "update ledger.lines set reason = 'edited' where seq = 2",
    "delete from ledger.lines where seq = 3",
    "delete from ledger.lists where list_date = date '2026-09-30'",
    "update ledger.lists set total = 0 where list_date = date '2026-09-30'",
    "update ledger.holds set reason = 'withdrawn'",
    "insert into ledger.entitlements values ('c', '91350112MAL6KEXG9M', 'e', 2026, 'airflow-run-42', null, null, "
    "null, date '2026-09-30')",
])
def test_the_database_refuses_to_rewrite_the_past(db: Path, statement: str) -> None:
    with duckdb.connect(str(db)) as con, pytest.raises(duckdb.ConstraintException):
        con.execute(statement)


def _rewrite_last_line(db: Path, amount: Decimal) -> None:
    """What the constraints cannot stop: the newest line rewritten with a correct hash."""
    with duckdb.connect(str(db)) as con:
        # Its facts reference it (DuckDB would refuse the update): they go first, unprotected.
        con.execute("delete from ledger.line_facts where line_id = (select line_id from ledger.lines "
                    "order by seq desc limit 1)")
        names = [d[0] for d in con.execute("select * from ledger.lines limit 0").description]
        row = dict(zip(names, con.execute("select * from ledger.lines order by seq desc limit 1").fetchone(),
                       strict=True))
        row["amount"] = amount
        new_hash = ledger_schema.row_hash(row["prev_hash"], row, ledger_schema.LINE_HASHED)
        con.execute("update ledger.lines set amount = ?, row_hash = ? where seq = ?", [amount, new_hash, row["seq"]])


def test_a_rewritten_newest_line_is_caught_and_no_night_is_published(db: Path) -> None:
    _rewrite_last_line(db, Decimal("999999.00"))
    before = counts(db)
    with clean_environment(), pytest.raises(invariants.InvariantError) as caught:
        publish_list(SECOND, db)
    problems = "\n".join(caught.value.problems)
    assert "list_totals" in problems and "running_net" in problems and "snapshot" in problems
    assert main(["--db", str(db), "verify"]) == 2
    assert counts(db) == before


def test_a_ledger_rolled_back_behind_its_snapshot_is_caught(states: dict[str, Path], tmp_path: Path) -> None:
    """The live file restored from an older copy: the published snapshot holds rows it lacks."""
    db = clone(states["after_first"], tmp_path / "state")
    newer = db_of(states["second"]).parent / "snapshot" / "registry.duckdb"
    with duckdb.connect(str(db), read_only=True) as con:
        problems = invariants.check_against_snapshot(con, newer)
    assert {p.check for p in problems} == {"snapshot"}


def test_the_same_key_with_another_amount_fails_loudly(db: Path) -> None:
    """Night 2 rerun from its very inputs, but the models now give L1 another amount."""
    with duckdb.connect(str(db)) as con:
        con.execute("update marts.fct_entitlements set payable_amount = payable_amount + 1 "
                    "where uscc = ? and status = 'payable'", [L1])
    before = counts(db)
    with clean_environment(), pytest.raises(ledger.LedgerError, match="other amounts for the same entitlement"):
        publish_list(SECOND, db)
    assert counts(db) == before


def test_a_second_line_for_the_same_key_and_night_is_a_conflict(db: Path) -> None:
    with duckdb.connect(str(db)) as con:
        line = ledger.lines_for(con, SECOND)[0]
        row = {**dataclasses.asdict(line), "amount": line.amount * 2, "listed_at": dt.datetime(2026, 11, 1),
               "prev_hash": None, "row_hash": "x", "seq": 999}
        with pytest.raises(ledger.LedgerError, match="already has a line for 2026-11-01"):
            ledger._insert_lines(con, [row])


def test_paying_a_non_repeatable_clause_twice_is_caught(db: Path) -> None:
    """A second entitlement of L1's non-repeatable 小巨人 match (another trigger event) listed:
    the night is refused before commit."""
    with duckdb.connect(str(db)) as con:
        (line,) = [x for x in ledger.lines_for(con, SECOND) if x.uscc == L1]
        fake = dataclasses.asdict(line)
        fake["trigger_event_id"] = "another-event"
        fake["entitlement_id"] = ledger_schema.entitlement_id(line.clause_id, line.uscc, "another-event")
        fake.update(line_id=ledger.line_id(fake["entitlement_id"], NEXT), list_date=NEXT, amount=Decimal("100.00"),
                    payable_amount=Decimal("100.00"), reason_code="new", original_line_id=None,
                    _entitlement={"trigger_event_type": None, "trigger_level": None, "trigger_date": None},
                    _clause={}, _retraction=None)
        del fake["seq"]
        con.execute("begin transaction")
        ledger._write_night(con, NEXT, [fake], "x.csv", "", 7, dt.datetime(2026, 11, 2))
        problems = invariants.check_ledger(con)
        con.execute("rollback")
    assert [p.check for p in problems] == ["double_listing"]


def test_the_ledger_keys_are_deterministic(db: Path) -> None:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("select entitlement_id, clause_id, uscc, trigger_event_id from ledger.entitlements") \
            .fetchall()
        modelled = dict(con.execute("select entitlement_id, trigger_event_id from marts.fct_entitlements").fetchall())
    assert rows and all(ledger_schema.entitlement_id(c, u, t) == e for e, c, u, t in rows)
    assert all(modelled[e] == t for e, _, _, t in rows if e in modelled)


def test_a_held_entitlement_survives_in_the_ledger(db: Path) -> None:
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select count(*) from ledger.lines where uscc = ?", [H9]).fetchone() == (1,)


def test_a_line_is_hashed_over_every_field_in_order() -> None:
    from registry.ledger import schema as ledger_schema
    from registry.ledger.append import LINE_FIELDS

    assert tuple(column for column, _ in ledger_schema.LINE_HASHED) == LINE_FIELDS
