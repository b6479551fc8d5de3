"""What a night changed, and where each list stands: for the finance office and the auditors.

Night-over-night change report of night D: every line of D (新增, 调增, 重新列支, 调减, 冲销, with
the reason), every hold and release recorded since the night before (who, when, why), and
every earlier list whose public notice ended by D (公示期满确认, with what it pays once held
lines are left out). Everything comes from the ledger as it stood when D was published, so a
rerun of D writes the same report, byte for byte.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import duckdb

from registry.ledger import append as ledger
from registry.ledger.holds import held_now

ZERO = ledger.ZERO
CHANGE_LABELS = {
    "new": "新增", "relisted": "重新列支", "raised": "调增", "lowered": "调减", "reversal": "冲销",
    "hold": "异议暂缓", "release": "解除暂缓", "confirmed": "公示期满确认",
}
CHANGE_LABELS_EN = {
    "new": "new", "relisted": "listed again", "raised": "raised", "lowered": "lowered", "reversal": "reversed",
    "hold": "held (objection)", "release": "released", "confirmed": "notice ended, confirmed",
}


@dataclass(frozen=True)
class Change:
    change: str  # a key of CHANGE_LABELS
    entitlement_id: str
    uscc: str
    firm_name: str
    city: str
    clause_id: str
    line_id: str
    original_line_id: str
    amount: Decimal
    reason: str
    actor: str
    recorded_at: str

    @property
    def label(self) -> str:
        return CHANGE_LABELS[self.change]


@dataclass(frozen=True)
class Standing:
    """A published list and what of it counts as paid (confirmed and not held)."""

    list_date: dt.date
    line_count: int
    total: Decimal
    notice_ends: dt.date
    confirmed_on: dt.date | None
    held: Decimal
    lines_head: str | None

    @property
    def paid(self) -> Decimal:
        return self.total - self.held if self.confirmed_on else ZERO


def _change_of(line: ledger.Line) -> str:
    if line.kind == "award":
        return line.reason_code if line.reason_code in ("relisted", "raised") else "new"
    return "lowered" if line.reason_code == "lowered" else "reversal"


def held_amounts(con: duckdb.DuckDBPyConnection, held: set[str], *, upto: dt.date) -> dict[dt.date, Decimal]:
    """Per list (up to `upto`), the amount of its lines whose entitlement is in `held`."""
    rows = con.execute("select list_date, sum(amount) from ledger.lines where list_contains(?, entitlement_id) "
                       "and list_date <= ? group by list_date", [sorted(held), upto]).fetchall()
    return dict(rows)


def standings(con: duckdb.DuckDBPyConnection, as_published: dt.date | None = None) -> list[Standing]:
    """Every list up to `as_published` as it stood when that night was published (default: now)."""
    held = set(held_now(con, as_published))
    upto = as_published or dt.date.max
    by_list = held_amounts(con, held, upto=upto)
    rows = con.execute(
        """select l.list_date, l.line_count, l.total, l.notice_ends, c.confirmed_on, l.lines_head
           from ledger.lists as l left join ledger.confirmations as c
             on c.list_date = l.list_date and c.confirmed_on <= ?
           where l.list_date <= ? order by l.list_date""", [upto, upto]).fetchall()
    return [Standing(d, n, total, ends, confirmed, by_list.get(d, ZERO), head)
            for d, n, total, ends, confirmed, head in rows]


def night_changes(con: duckdb.DuckDBPyConnection, list_date: dt.date) -> list[Change]:
    lines = ledger.lines_for(con, list_date)
    out = [Change(_change_of(line), line.entitlement_id, line.uscc, line.firm_name or "", line.city or "",
                  line.clause_id, line.line_id, line.original_line_id or "", line.amount, line.reason, "", "")
           for line in lines]
    previous = con.execute("select max(list_date) from ledger.lists where list_date < ?", [list_date]).fetchone()[0]
    holds = con.execute(
        """select h.action, h.entitlement_id, e.uscc, coalesce(f.firm_name, ''), coalesce(f.city, ''), e.clause_id,
                  f.first_line, f.net, h.reason, h.actor, strftime(h.recorded_at, '%Y-%m-%d %H:%M:%S') || ' UTC'
           from ledger.holds as h
           join ledger.entitlements as e using (entitlement_id)
           join (select entitlement_id, arg_max(firm_name, seq) as firm_name, arg_max(city, seq) as city,
                        arg_min(line_id, seq) as first_line, sum(amount) as net
                 from ledger.lines where list_date < ? group by entitlement_id) as f using (entitlement_id)
           where h.after_list_date = ? order by h.hold_seq""", [list_date, previous]).fetchall()
    out += [Change(action, eid, uscc, name, city, clause, first, "", net, reason, actor, at)
            for action, eid, uscc, name, city, clause, first, net, reason, actor, at in holds]
    for standing in standings(con, list_date):
        if standing.confirmed_on == list_date:
            # The amount is what the confirmation pays, the text says how it follows from the list.
            note = (f"清单 {standing.list_date}（{standing.line_count} 行，合计 {standing.total:.2f} 元）"
                    f"公示期（至 {standing.notice_ends}）届满，确认兑付 {standing.paid:.2f} 元"
                    + (f"；其中异议暂缓 {standing.held:.2f} 元不计入" if standing.held else ""))
            out.append(Change("confirmed", "", "", "", "", "", "", "", standing.paid, note, "", ""))
    return out


def changes_text(list_date: dt.date, changes: list[Change]) -> str:
    if not changes:
        return f"{list_date} 清单无变动 / no changes"
    out = [f"{list_date} 清单变动 / changes:"]
    for c in changes:
        who = f"（{c.actor}，{c.recorded_at}）" if c.actor else ""
        firm = f"{c.firm_name}（{c.uscc}）{c.clause_id} " if c.uscc else ""
        out.append(f"  {c.label} {firm}{c.amount:.2f} 元：{c.reason}{who}")
    return "\n".join(out)
