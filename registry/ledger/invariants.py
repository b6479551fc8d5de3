"""The ledger's invariants, checked over the whole ledger every night (and by `registry verify`).

What each check guarantees (see docs/auditing.md):

chain:<table>       every row of lines, lists and holds hashes to its stored hash, and each row
                    points at the hash of the row before it: no row was edited, dropped or
                    inserted out of order since it was written (short of rewriting the whole
                    chain, which `snapshot` catches).
snapshot            every row of the last published snapshot is still in the live ledger,
                    unchanged: the live ledger only grew since the auditors' copy.
sequence            line numbers run 1..n without gaps, nights in date order.
list_totals         each night's list record (line count, total, first/last line, chain head)
                    equals the sum of its lines; the ledger total equals the sum of list totals.
running_net         after every line, the net listed for its entitlement equals the amount that
                    line says was payable then: each line is exactly target minus what was
                    listed before, so nothing is listed twice and no reversal exceeds the award.
originals           every line after an entitlement's first points at that first line.
entitlements        each ledger entitlement's first list date is that of its first line.
double_listing      no non-repeatable clause pays one firm twice, and no 就高不重复 group pays two
                    clauses for one firm and one triggering event (on net listed amounts).
holds               holds and releases alternate per entitlement.
confirmations       a list is confirmed only after its notice period, and every list whose
                    notice period ended by the last night (less $REGISTRY_FUTURE_DAYS: a night
                    published ahead of the clock confirms only what the clock had reached) is
                    confirmed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from registry.core import settings
from registry.ledger import schema as ledger_schema
from registry.ledger.schema import LedgerError

CHAINS = {
    "lines": ("seq", ledger_schema.LINE_HASHED),
    "lists": ("list_date", ledger_schema.LIST_HASHED),
    "holds": ("hold_seq", ledger_schema.HOLD_HASHED),
}
SNAPSHOT_ALIAS = "registry_published_snapshot"

# check name -> SQL returning one row per violation (first column = description)
SQL_CHECKS: dict[str, str] = {
    "sequence": """
        select 'line numbers are not 1..' || count(*) || ' (min ' || min(seq) || ', max ' || max(seq) || ')'
        from ledger.lines having count(*) > 0 and (min(seq) <> 1 or max(seq) <> count(*))
        union all
        select 'line ' || line_id || ' of ' || list_date || ' comes after a line of a later night'
        from (select line_id, list_date, lag(list_date) over (order by seq) as before from ledger.lines)
        where before > list_date
        union all
        select 'hold numbers are not 1..' || count(*) from ledger.holds
        having count(*) > 0 and (min(hold_seq) <> 1 or max(hold_seq) <> count(*))""",
    "list_totals": """
        with per_night as (
            select list_date, count(*) as n, sum(amount) as total, min(seq) as first_seq, max(seq) as last_seq
            from ledger.lines group by list_date
        ),
        heads as (
            select l.list_date, (select row_hash from ledger.lines as x where x.list_date <= l.list_date
                                 order by x.seq desc limit 1) as head
            from ledger.lists as l
        )
        select 'list ' || l.list_date || ' records ' || l.line_count || ' lines / ' || l.total
               || ' yuan, its lines are ' || coalesce(p.n, 0) || ' / ' || coalesce(p.total, 0)
        from ledger.lists as l left join per_night as p using (list_date)
        where l.line_count <> coalesce(p.n, 0) or l.total <> coalesce(p.total, 0)
           or l.first_seq is distinct from p.first_seq or l.last_seq is distinct from p.last_seq
        union all
        select 'list ' || l.list_date || ' records a chain head that is not its last line'
        from ledger.lists as l join heads as h using (list_date)
        where l.lines_head is distinct from h.head
        union all
        select 'ledger total ' || (select coalesce(sum(amount), 0) from ledger.lines)
               || ' differs from the sum of list totals ' || (select coalesce(sum(total), 0) from ledger.lists)
        where (select coalesce(sum(amount), 0) from ledger.lines)
              <> (select coalesce(sum(total), 0) from ledger.lists)""",
    "running_net": """
        select 'line ' || line_id || ' (' || entitlement_id || ', ' || list_date || '): net after it '
               || net || ' but it records ' || payable_amount || ' as payable'
        from (select *, sum(amount) over (partition by entitlement_id order by seq) as net from ledger.lines)
        where net <> payable_amount""",
    "originals": """
        with firsts as (select entitlement_id, arg_min(line_id, seq) as first_line from ledger.lines
                        group by entitlement_id)
        select 'line ' || l.line_id || ' points at ' || coalesce(l.original_line_id, 'nothing')
               || ', the first line of ' || l.entitlement_id || ' is ' || f.first_line
        from ledger.lines as l join firsts as f using (entitlement_id)
        where (l.line_id = f.first_line and l.original_line_id is not null)
           or (l.line_id <> f.first_line and l.original_line_id is distinct from f.first_line)""",
    "entitlements": """
        select 'entitlement ' || e.entitlement_id || ' first listed ' || e.first_list_date
               || ' but its first line is of ' || coalesce(cast(min(l.list_date) as varchar), 'no night')
        from ledger.entitlements as e left join ledger.lines as l using (entitlement_id)
        group by e.entitlement_id, e.first_list_date
        having min(l.list_date) is distinct from e.first_list_date""",
    "double_listing": """
        with net as (
            select entitlement_id, sum(amount) as net, arg_max(clause_id, seq) as clause_id,
                   arg_max(uscc, seq) as uscc, arg_max(repeatable, seq) as repeatable,
                   arg_max(stacking_group, seq) as stacking_group, arg_max(trigger_event_id, seq) as trigger_event_id
            from ledger.lines group by entitlement_id
        )
        select 'clause ' || clause_id || ' (not repeatable) is listed net for firm ' || uscc || ' '
               || count(*) || ' times: ' || string_agg(entitlement_id, ', ' order by entitlement_id)
        from net where net > 0 and repeatable = false group by clause_id, uscc having count(*) > 1
        union all
        select 'stacking group ' || stacking_group || ' pays firm ' || uscc || ' ' || count(*)
               || ' awards for event ' || trigger_event_id || ': ' || string_agg(clause_id, ', ' order by clause_id)
        from net where net > 0 and stacking_group is not null
        group by uscc, stacking_group, trigger_event_id having count(*) > 1""",
    "holds": """
        select 'entitlement ' || entitlement_id || ': ' || action || ' follows ' || coalesce(before, 'nothing')
        from (select *, lag(action) over (partition by entitlement_id order by hold_seq) as before
              from ledger.holds)
        where action = before or (before is null and action = 'release')""",
    "confirmations": """
        select 'list ' || c.list_date || ' confirmed on ' || c.confirmed_on || ', before its notice ended '
               || l.notice_ends
        from ledger.confirmations as c join ledger.lists as l using (list_date)
        where c.confirmed_on < l.notice_ends
        union all
        select 'list ' || list_date || ': notice ended ' || notice_ends || ' but it is not confirmed'
        from ledger.lists
        where notice_ends <= (select max(list_date) from ledger.lists) - {future_days}
          and list_date not in (select list_date from ledger.confirmations)""",
}


@dataclass(frozen=True)
class Violation:
    check: str
    detail: str

    def __str__(self) -> str:
        return f"{self.check}: {self.detail}"


class InvariantError(LedgerError):
    """A ledger invariant does not hold: the night is refused, nothing is published."""

    def __init__(self, problems: list[str], what: str = "refusing to publish") -> None:
        self.problems = problems
        shown = "\n  ".join(problems[:20]) + (f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else "")
        super().__init__(f"ledger invariant broken, {what}:\n  {shown}")


def check_chain(con: duckdb.DuckDBPyConnection, table: str) -> list[Violation]:
    """Each row of the chained `table` follows the row before it and hashes to its stored hash,
    computed in one pass over the table by the constraint's own expression (schema.sql_row_hash)."""
    order, fields = CHAINS[table]
    rows = con.execute(f"""
        select key, unlinked, changed from (
            select {order} as key,
                   prev_hash is distinct from lag(row_hash) over (order by {order}) as unlinked,
                   row_hash is distinct from {ledger_schema.sql_row_hash(fields)} as changed
            from ledger.{table})
        where unlinked or changed order by key""").fetchall()  # noqa: S608 (names from CHAINS)
    out = []
    for key, unlinked, changed in rows:
        if unlinked:
            out.append(Violation(f"chain:{table}", f"row {key} does not follow the row before it"))
        if changed:
            out.append(Violation(f"chain:{table}", f"row {key} was changed after it was written"))
    return out


def check_ledger(con: duckdb.DuckDBPyConnection) -> list[Violation]:
    """Every invariant that the ledger alone must satisfy."""
    out = [v for table in CHAINS for v in check_chain(con, table)]
    for name, sql in SQL_CHECKS.items():
        sql = sql.replace("{future_days}", str(settings.future_days()))
        out += [Violation(name, detail) for (detail,) in con.execute(sql).fetchall()]
    return out


def check_against_snapshot(con: duckdb.DuckDBPyConnection, snapshot: Path | None) -> list[Violation]:
    """Every ledger row of the published snapshot is in the live ledger, unchanged."""
    if snapshot is None or not snapshot.exists():
        return []
    con.execute(f"attach ? as {SNAPSHOT_ALIAS} (read_only)", [str(snapshot)])
    try:
        out = []
        for table in ledger_schema.APPEND_ONLY_TABLES:
            try:
                (missing,) = con.execute(
                    f"select count(*) from (select * from {SNAPSHOT_ALIAS}.ledger.{table} "  # noqa: S608
                    f"except select * from ledger.{table})").fetchone()
            except duckdb.Error as err:
                out.append(Violation("snapshot", f"ledger.{table} cannot be compared with the snapshot: {err}"))
                continue
            if missing:
                out.append(Violation("snapshot", f"{missing} row(s) of ledger.{table} in the published snapshot "
                                                 "are missing or changed in the live ledger"))
        return out
    finally:
        con.execute(f"detach {SNAPSHOT_ALIAS}")


def require(con: duckdb.DuckDBPyConnection, snapshot: Path | None = None, what: str = "refusing to publish") -> None:
    problems = [str(v) for v in check_ledger(con) + check_against_snapshot(con, snapshot)]
    if problems:
        raise InvariantError(problems, what)


def verify_database(db: Path) -> str:
    """`registry verify`: every invariant, read-only; raises InvariantError when one fails."""
    from registry.ledger import snapshot
    from registry.store import db as registry_db

    with registry_db.connect(db, read_only=True) as con:
        require(con, snapshot.snapshot_path(db), "the ledger cannot be trusted")
        lines, lists, head = con.execute(
            "select (select count(*) from ledger.lines), (select count(*) from ledger.lists), "
            "(select lines_head from ledger.lists order by list_date desc limit 1)").fetchone()
    return f"ledger ok: {lists} lists, {lines} lines, chain head {head or '-'}; every invariant holds"
