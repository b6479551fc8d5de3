"""兑付台账: the append-only ledger and the nightly list it yields.

Each night compares what the models say each entitlement is payable now (its target:
`payable_amount` of a `payable` entitlement, 0 for any other status or when the entitlement
is gone) with what the ledger has listed for it so far (its net). The difference, when there
is one, becomes one new line: an `award` for money still owed (a first listing, a raise, a
relisting), a `reversal` (negative) when an award lost its ground or was lowered, pointing
at the entitlement's original line. Past lines are never edited: the ledger is the history
and every list is reproducible from it. Schema and constraints: registry.ledger.schema.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import duckdb

from registry.core import crashpoints
from registry.ledger import invariants
from registry.ledger import schema as ledger_schema
from registry.ledger.schema import LedgerError
from registry.store.texts import json_rows

ZERO = Decimal("0.00")
__all__ = ["ZERO", "LedgerError", "Line", "append_night", "lines_for", "plan", "published_dates"]


@dataclass(frozen=True)
class Line:
    seq: int
    line_id: str
    list_date: dt.date
    entitlement_id: str
    clause_id: str
    uscc: str
    trigger_event_id: str
    award_year: int
    firm_name: str | None
    city: str | None
    document_title: str
    article: str
    kind: str
    amount: Decimal
    payable_amount: Decimal
    entitled_amount: Decimal | None
    amount_rule: str | None
    is_cap: bool
    is_draft: bool
    status: str | None
    stacking_group: str | None
    repeatable: bool | None
    reason_code: str
    reason: str
    original_line_id: str | None
    rule_version: str | None

    def to_json_obj(self) -> dict[str, str]:
        return {"entitlement_id": self.entitlement_id, "uscc": self.uscc, "clause_id": self.clause_id,
                "amount": f"{self.amount:.2f}", "kind": self.kind}


LINE_FIELDS = tuple(Line.__dataclass_fields__)  # the same columns, in the same order, as schema.LINE_HASHED
LINE_COLUMNS = ", ".join(LINE_FIELDS)

# reason_code -> (Chinese, English); {target}, {net}, {status} are filled in.
REASONS: dict[str, tuple[str, str]] = {
    "new": ("新增应享奖励", "new entitlement"),
    "relisted": ("重新列支：此前冲销的应享奖励重新满足条件", "listed again: a reversed entitlement qualifies again"),
    "raised": ("金额调增：应享{target}元，已列{net}元，补列差额",
               "amount raised: payable {target}, listed {net}; the difference is listed"),
    "lowered": ("金额调减：应享{target}元，已列{net}元，冲销差额",
                "amount lowered: payable {target}, listed {net}; the difference is reversed"),
    "revoked": ("依据的认定已被撤销，冲销原列支", "the designation it rests on was revoked"),
    "retracted": ("来源已撤回触发记录（数据更正），冲销原列支", "the source retracted the triggering record"),
    "superseded": ("就高不重复：同一事项已有更高奖励，冲销原列支",
                   "a higher award of the same 就高不重复 group replaces it"),
    "already_granted": ("不可重复享受：该条款已对本企业兑付", "not repeatable: the clause already paid this firm"),
    "awaiting_grant": ("金额依据（配套基数）已不在登记数据中，冲销原列支",
                       "the base of the amount is no longer recorded"),
    "awaiting_data": ("金额依据已不在登记数据中，冲销原列支", "the data the amount needs is no longer recorded"),
    "needs_application": ("条款已调整为需申报，冲销原列支", "the clause now needs an application"),
    "cap_reached": ("已达年度上限，冲销原列支", "the yearly cap is reached"),
    "gone": ("依据的事实已变更，不再满足条件，冲销原列支", "the facts changed: the conditions are no longer met"),
    "not_payable": ("当前状态为{status}，不再列支，冲销原列支", "status is now {status}: no longer listed"),
}
PRO_RATA = ("（年度预算不足，按比例兑付：应享{entitled}元，可付{target}元）",
            " (yearly budget short: entitled {entitled}, paid pro rata {target})")


def reason_text(code: str, lang: str = "zh", **values: Any) -> str:
    zh, en = REASONS.get(code, REASONS["not_payable"])
    return (zh if lang == "zh" else en).format(**{"status": code, **values})


def line_id(entitlement_id: str, list_date: dt.date) -> str:
    return ledger_schema.line_id(entitlement_id, list_date)


def published_dates(con: duckdb.DuckDBPyConnection) -> list[dt.date]:
    return [d for (d,) in con.execute("select list_date from ledger.lists order by list_date").fetchall()]


def lines_for(con: duckdb.DuckDBPyConnection, list_date: dt.date) -> list[Line]:
    rows = con.execute(
        f"select {LINE_COLUMNS} from ledger.lines where list_date = ? "  # noqa: S608 (constant column list)
        "order by city, uscc, clause_id, entitlement_id",
        [list_date],
    ).fetchall()
    return [Line(*row) for row in rows]


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return con.execute("select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
                       [schema, table]).fetchone()[0] > 0


# What each entitlement is worth tonight: the model's payable_amount (0 unless its status is payable;
# the pro-rata amount when a yearly budget is short). The rule lives in fct_entitlements, not here.
TARGET_SQL = "coalesce(e.payable_amount, 0)"


def check_models_built_for(con: duckdb.DuckDBPyConnection, list_date: dt.date) -> None:
    if not _has_table(con, "marts", "fct_entitlements") or not _has_table(con, "marts", "build_info"):
        raise LedgerError(f"the entitlement models are not built: run `registry nightly --date {list_date}`")
    built = con.execute("select distinct as_of_date from marts.build_info").fetchall()
    if built and built != [(list_date,)]:
        raise LedgerError(
            f"the entitlement models were built for {', '.join(str(d) for (d,) in built)}, not {list_date}: "
            f"run `registry nightly --date {list_date}` (it builds the models first)"
        )


def clause_versions(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Any]]:
    """Each clause of the catalog as built, with its rule version: the first 12 hex of sha256 of
    the clause's whole row in marts.dim_policy_clauses (document, article, quote, amount rule,
    conditions ...), so any change of a clause's text or rule gives a new version."""
    cursor = con.execute("select * from marts.dim_policy_clauses order by clause_id")
    names = [d[0] for d in cursor.description]
    out: dict[str, dict[str, Any]] = {}
    for row in cursor.fetchall():
        record = dict(zip(names, row, strict=True))
        text = json.dumps(record, ensure_ascii=False, sort_keys=True, default=str)
        record["rule_text"] = text
        record["rule_version"] = hashlib.sha256(text.encode()).hexdigest()[:12]
        out[record["clause_id"]] = record
    return out


PLAN_SQL = """
with targets as (
    select e.entitlement_id, e.uscc, e.firm_name, e.city, e.clause_id, e.trigger_event_id, e.award_year,
           e.trigger_event_type, e.trigger_level, e.trigger_date, e.entitled_amount, {target} as target,
           e.amount_rule, e.is_cap, e.is_draft, e.status, e.stacking_group
    from marts.fct_entitlements as e
),
listed as (
    select entitlement_id, sum(amount) as net, count(*) as line_count,
           arg_max(uscc, seq) as uscc, arg_max(firm_name, seq) as firm_name, arg_max(city, seq) as city,
           arg_max(clause_id, seq) as clause_id, arg_max(trigger_event_id, seq) as trigger_event_id,
           arg_max(award_year, seq) as award_year, arg_max(amount_rule, seq) as amount_rule,
           arg_max(is_draft, seq) as is_draft, arg_max(stacking_group, seq) as stacking_group,
           arg_max(document_title, seq) as document_title, arg_max(article, seq) as article,
           arg_max(rule_version, seq) as rule_version, arg_min(line_id, seq) as original_line_id
    from ledger.lines
    where list_date < ?
    group by entitlement_id
),
retracted as (
    select event_id, retraction_event_id from marts.fct_event_retractions
)
select
    coalesce(t.entitlement_id, l.entitlement_id) as entitlement_id,
    coalesce(t.clause_id, l.clause_id) as clause_id,
    coalesce(t.uscc, l.uscc) as uscc,
    coalesce(t.trigger_event_id, l.trigger_event_id) as trigger_event_id,
    coalesce(t.award_year, l.award_year) as award_year,
    coalesce(t.firm_name, l.firm_name) as firm_name,
    coalesce(t.city, l.city) as city,
    t.trigger_event_type, t.trigger_level, t.trigger_date,
    l.document_title as listed_title, l.article as listed_article, l.rule_version as listed_version,
    coalesce(t.target, 0) as target,
    coalesce(l.net, 0) as net,
    coalesce(l.line_count, 0) as listed_lines,
    l.original_line_id,
    t.entitled_amount,
    coalesce(t.amount_rule, l.amount_rule) as amount_rule,
    coalesce(t.is_cap, false) as is_cap,
    coalesce(t.is_draft, l.is_draft, false) as is_draft,
    t.status,
    coalesce(t.stacking_group, l.stacking_group) as stacking_group,
    t.entitlement_id is null as is_gone,
    r.event_id is not null as is_retracted,
    r.retraction_event_id
from targets as t
full outer join listed as l on l.entitlement_id = t.entitlement_id
left join retracted as r on r.event_id = coalesce(t.trigger_event_id, l.trigger_event_id)
where coalesce(t.target, 0) <> coalesce(l.net, 0)
order by 1
"""


def _reason(row: dict[str, Any], delta: Decimal) -> tuple[str, str]:
    target, net = row["target"], row["net"]
    if delta > 0:
        code = "new" if row["listed_lines"] == 0 else ("relisted" if net == 0 else "raised")
    elif target > 0:
        code = "lowered"
    elif row["is_gone"]:
        code = "retracted" if row["is_retracted"] else "gone"
    else:
        code = row["status"] if row["status"] in REASONS else "not_payable"
    text = reason_text(code, target=f"{target:.2f}", net=f"{net:.2f}", status=row["status"])
    entitled = row["entitled_amount"]
    if target > 0 and entitled is not None and target < entitled:
        text += PRO_RATA[0].format(entitled=f"{entitled:.2f}", target=f"{target:.2f}")
    return code, text


def plan(con: duckdb.DuckDBPyConnection, list_date: dt.date) -> list[dict[str, Any]]:
    """The rows night `list_date` must append (target minus net listed before that night), as
    dicts of Line fields without seq and rule version, plus what the night needs to record."""
    check_models_built_for(con, list_date)
    versions = clause_versions(con)
    cursor = con.execute(PLAN_SQL.format(target=TARGET_SQL), [list_date])
    names = [d[0] for d in cursor.description]
    planned = []
    for values in cursor.fetchall():
        row = dict(zip(names, values, strict=True))
        delta = (Decimal(row["target"]) - Decimal(row["net"])).quantize(ZERO)
        code, text = _reason(row, delta)
        clause = versions.get(row["clause_id"], {})
        planned.append({
            "line_id": line_id(row["entitlement_id"], list_date), "list_date": list_date,
            "entitlement_id": row["entitlement_id"], "clause_id": row["clause_id"], "uscc": row["uscc"],
            "trigger_event_id": row["trigger_event_id"], "award_year": row["award_year"],
            "firm_name": row["firm_name"], "city": row["city"],
            "document_title": clause.get("document_title") or row["listed_title"] or row["clause_id"],
            "article": clause.get("article") or row["listed_article"] or "",
            "kind": "award" if delta > 0 else "reversal", "amount": delta,
            "payable_amount": Decimal(row["target"]).quantize(ZERO),
            "entitled_amount": row["entitled_amount"], "amount_rule": row["amount_rule"],
            "is_cap": bool(row["is_cap"]), "is_draft": bool(row["is_draft"]), "status": row["status"],
            "stacking_group": row["stacking_group"], "repeatable": clause.get("repeatable"),
            "reason_code": code, "reason": text,
            "original_line_id": row["original_line_id"] if row["listed_lines"] else None,
            "rule_version": clause.get("rule_version") or row["listed_version"],
            "_entitlement": {k: row[k] for k in ("trigger_event_type", "trigger_level", "trigger_date")},
            "_retraction": row["retraction_event_id"] if row["is_gone"] else None,
            "_clause": clause,
        })
    return planned


def _insert(con: duckdb.DuckDBPyConnection, table: str, row: dict[str, Any]) -> None:
    columns = ", ".join(row)
    con.execute(f"insert into ledger.{table} ({columns}) values ({', '.join('?' * len(row))})",  # noqa: S608
                list(row.values()))


def bulk_insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict[str, Any]]) -> None:
    """Insert rows in one statement (a night can have many lines): handed over as texts
    (`registry.store.texts`), cast to the table's types in SQL, so decimals stay exact."""
    if not rows:
        return
    columns = list(rows[0])
    types = dict(con.execute("select column_name, data_type from information_schema.columns "
                             "where table_schema = 'ledger' and table_name = ?", [table]).fetchall())
    texts = [{c: None if row[c] is None else str(row[c]) for c in columns} for row in rows]
    with json_rows(texts, columns) as (relation, params):
        select = ", ".join(f"cast({c} as {types[c]})" for c in columns)  # names and types from the catalog
        con.execute(f"insert into ledger.{table} ({', '.join(columns)}) select {select} from {relation}",  # noqa: S608
                    params)


def _insert_lines(con: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]]) -> None:
    """Insert a night's lines; a line already there with the same key is a conflict, never an overwrite."""
    try:
        bulk_insert(con, "lines", rows)
    except duckdb.ConstraintException as err:
        for row in rows:
            existing = con.execute("select amount from ledger.lines where entitlement_id = ? and list_date = ?",
                                   [row["entitlement_id"], row["list_date"]]).fetchone()
            if existing is not None:
                raise LedgerError(
                    f"entitlement {row['entitlement_id']} (clause {row['clause_id']}, firm {row['uscc']}) already "
                    f"has a line for {row['list_date']} of {existing[0]} yuan; this run computed {row['amount']}: "
                    "the ledger is append-only, refusing") from err
        raise


def _write_night(con: duckdb.DuckDBPyConnection, list_date: dt.date, planned: list[dict[str, Any]],
                 csv_name: str, fingerprint: str, notice_days: int, at: dt.datetime,
                 today: dt.date | None = None) -> None:
    last_list = con.execute("select list_date, row_hash from ledger.lists order by list_date desc limit 1").fetchone()
    last_line = con.execute("select seq, row_hash from ledger.lines order by seq desc limit 1").fetchone()
    seq, prev_line_hash = (last_line or (0, None))
    lines = []
    for item in planned:
        seq += 1
        row = {k: v for k, v in item.items() if not k.startswith("_")}
        row = {"seq": seq, **row}
        row = {field: row[field] for field in LINE_FIELDS}
        row["listed_at"] = at
        row["prev_hash"] = prev_line_hash
        row["row_hash"] = prev_line_hash = ledger_schema.row_hash(prev_line_hash, row, ledger_schema.LINE_HASHED)
        lines.append((row, item))

    listing = {
        "list_date": list_date, "prev_list_date": last_list[0] if last_list else None,
        "line_count": len(lines), "total": sum((r["amount"] for r, _ in lines), ZERO),
        "first_seq": lines[0][0]["seq"] if lines else None, "last_seq": lines[-1][0]["seq"] if lines else None,
        "lines_head": prev_line_hash, "csv_name": csv_name, "inputs_fingerprint": fingerprint,
        "notice_days": notice_days, "notice_ends": list_date + dt.timedelta(days=notice_days),
        "published_at": at, "prev_hash": last_list[1] if last_list else None,
    }
    listing["row_hash"] = ledger_schema.row_hash(listing["prev_hash"], listing, ledger_schema.LIST_HASHED)
    _insert(con, "lists", listing)

    known = {e for (e,) in con.execute("select entitlement_id from ledger.entitlements").fetchall()}
    versions = {v for (v,) in con.execute("select rule_version from ledger.clause_versions").fetchall()}
    facts = _facts(con, [r["entitlement_id"] for r, _ in lines])
    new_entitlements, new_versions, fact_rows = {}, {}, []
    for row, item in lines:
        if row["entitlement_id"] not in known:
            new_entitlements[row["entitlement_id"]] = {
                "clause_id": row["clause_id"], "uscc": row["uscc"], "trigger_event_id": row["trigger_event_id"],
                "award_year": row["award_year"], "entitlement_id": row["entitlement_id"],
                **item["_entitlement"], "first_list_date": list_date}
        clause = item["_clause"]
        if clause and clause["rule_version"] not in versions:
            new_versions[clause["rule_version"]] = {
                "rule_version": clause["rule_version"], "clause_id": clause["clause_id"],
                **{k: clause.get(k) for k in ("document_id", "document_title", "doc_number", "document_status",
                                              "article", "quote", "clause_reading", "amount_rule")},
                "rule_text": clause["rule_text"], "first_list_date": list_date}
        event_roles = set(facts.get(row["entitlement_id"]) or {(row["trigger_event_id"], "trigger")})
        if item["_retraction"]:
            event_roles.add((item["_retraction"], "retraction"))
        fact_rows += [{"line_id": row["line_id"], "event_id": event, "role": role}
                      for event, role in sorted(event_roles)]
    bulk_insert(con, "entitlements", list(new_entitlements.values()))
    bulk_insert(con, "clause_versions", list(new_versions.values()))
    _insert_lines(con, [row for row, _ in lines])
    bulk_insert(con, "line_facts", fact_rows)
    # A notice is confirmed once its days have passed by the clock (`today`), never because a later
    # list date was given.
    confirm_by = min(list_date, today) if today is not None else list_date
    con.execute(
        """insert into ledger.confirmations
           select list_date, ? from ledger.lists
           where notice_ends <= ? and list_date not in (select list_date from ledger.confirmations)""",
        [list_date, confirm_by])


def _facts(con: duckdb.DuckDBPyConnection, entitlement_ids: list[str]) -> dict[str, set[tuple[str, str]]]:
    """The events behind each entitlement (audit.entitlement_facts: trigger, base, revocation,
    retraction ...), frozen with the line so the audit trail survives later corrections."""
    if not entitlement_ids or not _has_table(con, "audit", "entitlement_facts"):
        return {}
    rows = con.execute("select entitlement_id, event_id, role from audit.entitlement_facts "
                       "where list_contains(?, entitlement_id)", [entitlement_ids]).fetchall()
    out: dict[str, set[tuple[str, str]]] = {}
    for ent, event, role in rows:
        out.setdefault(ent, set()).add((event, role))
    return out


def reconcile(con: duckdb.DuckDBPyConnection) -> list[str]:
    """After a night: what the ledger has listed net for each entitlement equals its target now."""
    rows = con.execute(
        f"""with targets as (select e.entitlement_id, {TARGET_SQL} as target
                            from marts.fct_entitlements as e),
                 listed as (select entitlement_id, sum(amount) as net from ledger.lines group by entitlement_id)
            select coalesce(t.entitlement_id, l.entitlement_id), coalesce(t.target, 0), coalesce(l.net, 0)
            from targets as t full outer join listed as l using (entitlement_id)
            where coalesce(t.target, 0) <> coalesce(l.net, 0)
            order by 1 limit 20"""  # noqa: S608 (TARGET_SQL is a constant)
    ).fetchall()
    return [f"entitlement {e}: payable {t}, ledger net {n}" for e, t, n in rows]


def verify_replay(con: duckdb.DuckDBPyConnection, list_date: dt.date, fingerprint: str | None) -> None:
    """A night rerun from the very inputs it was planned from must plan the very lines it listed:
    the same entitlement key with a different amount fails loudly (never a second line)."""
    stored = con.execute("select inputs_fingerprint from ledger.lists where list_date = ?", [list_date]).fetchone()
    latest = published_dates(con)[-1]
    if fingerprint is None or stored is None or stored[0] != fingerprint or latest != list_date:
        return
    try:
        check_models_built_for(con, list_date)
    except LedgerError:
        return
    again = sorted((p["entitlement_id"], p["kind"], p["amount"]) for p in plan(con, list_date))
    listed = sorted(con.execute("select entitlement_id, kind, amount from ledger.lines where list_date = ?",
                                [list_date]).fetchall())
    if again != listed:
        was, now = dict((e, a) for e, _, a in listed), dict((e, a) for e, _, a in again)
        diffs = [f"{e}: listed {was.get(e)}, now {now.get(e)}" for e in sorted(set(was) | set(now))
                 if was.get(e) != now.get(e)]
        raise LedgerError(
            f"night {list_date} was published from these very inputs (fingerprint {fingerprint[:12]}) but the "
            f"models now give other amounts for the same entitlement keys: {'; '.join(diffs[:10])}. The "
            "published list stands; find out why the models changed before publishing anything else")


def append_night(con: duckdb.DuckDBPyConnection, list_date: dt.date, csv_name: str, *, fingerprint: str = "",
                 notice_days: int = 7, today: dt.date | None = None,
                 before_commit: Callable[[duckdb.DuckDBPyConnection], None] | None = None) -> list[Line]:
    """Append night `list_date` (its lines, its list record, tonight's confirmations) in one
    transaction, after checking the whole ledger; a night already published is returned as it is.
    `before_commit` sees the night inside the transaction once it passed the checks; whatever it
    raises rolls the night back (the nightly run renders the night's files there)."""
    dates = published_dates(con)
    if list_date in dates:
        verify_replay(con, list_date, fingerprint or None)
        return lines_for(con, list_date)
    if dates and dates[-1] > list_date:
        raise LedgerError(f"a list for {dates[-1]} is already published; nights are appended in date order, "
                          f"so {list_date} can no longer be listed")
    planned = plan(con, list_date)
    at = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    con.execute("begin transaction")
    try:
        _write_night(con, list_date, planned, csv_name, fingerprint, notice_days, at, today)
        problems = [f"reconciliation: {p}" for p in reconcile(con)]
        problems += [str(v) for v in invariants.check_ledger(con)]
        if problems:
            raise invariants.InvariantError(problems, f"night {list_date} not published")
        if before_commit is not None:
            before_commit(con)
        crashpoints.reach("ledger_written")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return lines_for(con, list_date)
