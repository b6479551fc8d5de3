"""兑付台账: the append-only ledger and the nightly list it yields.

Each night compares what the models say each entitlement is worth now (its target) with
what the ledger has listed for it so far (its net). The difference, when there is one,
becomes one new line: an `award` for money still owed (a first listing or a raise), a
`reversal` (negative) when an award lost its ground or was lowered. Past lines are never
edited, so the ledger is the history and every list is reproducible from it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from decimal import Decimal

import duckdb

ZERO = Decimal("0.00")


class LedgerError(RuntimeError):
    """The ledger refuses a night (wrong order, stale models, broken invariant)."""


@dataclass(frozen=True)
class Line:
    line_id: str
    list_date: dt.date
    entitlement_id: str
    uscc: str
    firm_name: str | None
    city: str | None
    clause_id: str
    document_title: str
    article: str
    kind: str
    amount: Decimal
    entitled_amount: Decimal
    amount_rule: str
    is_cap: bool
    is_draft: bool
    reason: str

    def to_json_obj(self) -> dict[str, str]:
        return {"entitlement_id": self.entitlement_id, "uscc": self.uscc, "clause_id": self.clause_id,
                "amount": f"{self.amount:.2f}", "kind": self.kind}


LINE_COLUMNS = ", ".join(Line.__dataclass_fields__)

REVERSAL_REASONS = {
    "revoked": "依据的认定已被撤销，冲销原列支",
    "superseded": "就高不重复：同一事项已有更高奖励，冲销原列支",
    "already_granted": "不可重复享受：该条款已对本企业兑付",
    "awaiting_grant": "配套基数（省级奖补）已不在登记数据中，冲销原列支",
    "needs_application": "条款已调整为需申报，冲销原列支",
}
GONE_REASON = "依据的认定已撤销、撤回或不再满足条件，冲销原列支"


def line_id(entitlement_id: str, list_date: dt.date) -> str:
    return hashlib.sha256(f"{entitlement_id}|{list_date.isoformat()}".encode()).hexdigest()[:16]


def published_dates(con: duckdb.DuckDBPyConnection) -> list[dt.date]:
    return [d for (d,) in con.execute("select list_date from ledger.lists order by list_date").fetchall()]


def lines_for(con: duckdb.DuckDBPyConnection, list_date: dt.date) -> list[Line]:
    rows = con.execute(
        f"select {LINE_COLUMNS} from ledger.lines where list_date = ? "  # noqa: S608
        "order by city, uscc, clause_id, entitlement_id",
        [list_date],
    ).fetchall()
    return [Line(*row) for row in rows]


def _check_models_built_for(con: duckdb.DuckDBPyConnection, list_date: dt.date) -> None:
    built = con.execute("select distinct as_of_date from marts.fct_entitlements").fetchall()
    if built and built != [(list_date,)]:
        raise LedgerError(
            f"the entitlement models were built for {', '.join(str(d) for (d,) in built)}, not {list_date}: "
            f"run `registry nightly --date {list_date}` (it builds the models first)"
        )


def plan_lines(con: duckdb.DuckDBPyConnection, list_date: dt.date) -> list[Line]:
    """The lines night `list_date` must append: target minus net listed, per entitlement."""
    _check_models_built_for(con, list_date)
    rows = con.execute(
        """
        with targets as (
            select e.entitlement_id, e.uscc, e.firm_name, e.city, e.clause_id, e.entitled_amount,
                   e.amount_rule, e.is_cap, e.is_draft, e.status
            from marts.fct_entitlements as e
        ),
        listed as (
            select entitlement_id, sum(amount) as net, any_value(uscc) as uscc,
                   any_value(firm_name) as firm_name, any_value(city) as city,
                   any_value(clause_id) as clause_id, any_value(is_draft) as is_draft,
                   any_value(amount_rule) as amount_rule
            from ledger.lines group by entitlement_id
        )
        select
            coalesce(t.entitlement_id, l.entitlement_id) as entitlement_id,
            coalesce(t.uscc, l.uscc), coalesce(t.firm_name, l.firm_name), coalesce(t.city, l.city),
            coalesce(t.clause_id, l.clause_id),
            c.document_title, c.article,
            case when t.status = 'payable' then t.entitled_amount else 0 end as target,
            coalesce(l.net, 0) as net,
            coalesce(t.amount_rule, l.amount_rule),
            coalesce(t.is_cap, false), coalesce(t.is_draft, l.is_draft, false),
            t.status
        from targets as t
        full outer join listed as l on l.entitlement_id = t.entitlement_id
        left join marts.dim_policy_clauses as c on c.clause_id = coalesce(t.clause_id, l.clause_id)
        where (case when t.status = 'payable' then t.entitled_amount else 0 end) <> coalesce(l.net, 0)
        order by 1
        """
    ).fetchall()
    lines = []
    for (ent_id, uscc, name, city, clause_id, title, article, target, net, rule, is_cap, is_draft, status) in rows:
        delta = Decimal(target) - Decimal(net)
        if delta > 0:
            kind, reason = "award", ("新增应享奖励" if net == 0 else f"金额调增：应享{target}元，已列{net}元，补列差额")
        else:
            kind = "reversal"
            reason = REVERSAL_REASONS.get(status or "", GONE_REASON) if target == 0 else \
                f"金额调减：应享{target}元，已列{net}元，冲销差额"
        lines.append(Line(line_id(ent_id, list_date), list_date, ent_id, uscc, name, city, clause_id,
                          title or clause_id, article or "", kind, delta.quantize(ZERO), Decimal(target),
                          rule, bool(is_cap), bool(is_draft), reason))
    return lines


def append_night(con: duckdb.DuckDBPyConnection, list_date: dt.date, csv_path: str) -> list[Line]:
    """Append night `list_date` (its lines and its list record) in one transaction."""
    dates = published_dates(con)
    if list_date in dates:
        return lines_for(con, list_date)
    if dates and dates[-1] > list_date:
        raise LedgerError(f"a list for {dates[-1]} is already published; nights are appended in date order, "
                          f"so {list_date} can no longer be listed")
    lines = plan_lines(con, list_date)
    listed_at = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    total = sum((line.amount for line in lines), ZERO)
    con.execute("begin transaction")
    try:
        if lines:
            con.executemany(
                f"insert into ledger.lines ({LINE_COLUMNS}, listed_at) "  # noqa: S608
                f"values ({', '.join('?' * (len(Line.__dataclass_fields__) + 1))})",
                [[*vars(line).values(), listed_at] for line in lines],
            )
        con.execute("insert into ledger.lists values (?, ?, ?, ?, ?)",
                    [list_date, listed_at, len(lines), total, csv_path])
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return lines_for(con, list_date)
