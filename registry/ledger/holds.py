"""公示 and 异议: a published list is in public notice for some days, then confirmed; an
objection holds an entitlement's lines out of payment until it is released.

* Notice: each list records its notice period (`notice_days`, from $REGISTRY_NOTICE_DAYS,
  default 7) and the date it ends; the first night on or after that date confirms the list
  (ledger.confirmations, written in that night's transaction, so reruns agree).
* Holds: `registry hold ID --reason ...` and `registry release ID --reason ...` append to
  ledger.holds (hash-chained) with who, when, and the last night published before it. A held
  entitlement's lines stay on the lists (the ledger never changes) but do not count as paid.
* Paid = listed on a confirmed list and not held.
* An entitlement whose lines net to zero (awarded, then reversed) cannot be held: nothing of it is
  to be paid, and holding it would count its award line as held on the list that carried it, so
  the night's "paid" figure would drop by money that was never going to be paid.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb

from registry.core import settings
from registry.ledger import schema as ledger_schema
from registry.ledger.schema import LedgerError
from registry.store import db as registry_db
from registry.store.lock import writer_lock


@dataclass(frozen=True)
class HoldRecord:
    hold_seq: int
    entitlement_id: str
    action: str
    reason: str
    actor: str
    recorded_at: dt.datetime
    after_list_date: dt.date
    uscc: str
    firm_name: str | None
    clause_id: str
    net_listed: Decimal

    def summary(self) -> str:
        verb = "异议暂缓 / held" if self.action == "hold" else "解除暂缓 / released"
        return (f"{verb}: {self.entitlement_id} {self.firm_name or ''}（{self.uscc}）{self.clause_id}，"
                f"已列 {self.net_listed:.2f} 元；理由：{self.reason}；"
                f"{self.actor}，{self.recorded_at:%Y-%m-%d %H:%M:%S} UTC")


def held_now(con: duckdb.DuckDBPyConnection, before_list_date: dt.date | None = None) -> dict[str, tuple]:
    """Entitlements held (entitlement_id -> (reason, actor, recorded_at)); with `before_list_date`,
    as they stood when that night was published (holds recorded after an earlier night)."""
    rows = con.execute(
        """select entitlement_id, arg_max(action, hold_seq), arg_max(reason, hold_seq), arg_max(actor, hold_seq),
                  arg_max(recorded_at, hold_seq)
           from ledger.holds where ? is null or after_list_date < ?
           group by entitlement_id""", [before_list_date, before_list_date]).fetchall()
    return {e: (reason, actor, at) for e, action, reason, actor, at in rows if action == "hold"}


def record(db: Path, entitlement_id: str, action: str, reason: str, actor: str | None = None) -> HoldRecord:
    """Append a hold or a release for an entitlement that is on a published list."""
    if action not in ("hold", "release"):
        raise ValueError(action)
    reason = (reason or "").strip()
    actor = settings.actor(actor)
    if not reason:
        raise LedgerError(f"{action} needs a reason (--reason)")
    if not actor:
        raise LedgerError(f"{action} needs who records it (--by or ${settings.ACTOR_ENV})")
    with writer_lock(db, f"registry {action} {entitlement_id}"), registry_db.connect(db) as con:
        found = con.execute(
            """select e.uscc, arg_max(l.firm_name, l.seq), e.clause_id, sum(l.amount)
               from ledger.entitlements as e join ledger.lines as l using (entitlement_id)
               where e.entitlement_id = ? group by e.uscc, e.clause_id""", [entitlement_id]).fetchone()
        if found is None:
            raise LedgerError(f"entitlement {entitlement_id!r} is on no published list: only listed lines can be "
                              "held (ids are in the list CSV, column 应享奖励编号)")
        if action == "hold" and found[3] == 0:
            raise LedgerError(f"entitlement {entitlement_id} ({found[2]}, firm {found[0]}) nets 0.00 yuan on the "
                              "lists: its award was reversed, so nothing of it is to be paid and there is nothing "
                              "to hold (holding it would lower the paid figure of the list that carried the award)")
        is_held = entitlement_id in held_now(con)
        if action == "hold" and is_held:
            raise LedgerError(f"entitlement {entitlement_id} is already held")
        if action == "release" and not is_held:
            raise LedgerError(f"entitlement {entitlement_id} is not held")
        last = con.execute("select hold_seq, row_hash from ledger.holds order by hold_seq desc limit 1").fetchone()
        (after,) = con.execute("select max(list_date) from ledger.lists").fetchone()
        row = {"hold_seq": (last[0] if last else 0) + 1, "entitlement_id": entitlement_id, "action": action,
               "reason": reason, "actor": actor,
               "recorded_at": dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0),
               "after_list_date": after, "prev_hash": last[1] if last else None}
        row["row_hash"] = ledger_schema.row_hash(row["prev_hash"], row, ledger_schema.HOLD_HASHED)
        con.execute(f"insert into ledger.holds ({', '.join(row)}) values ({', '.join('?' * len(row))})",  # noqa: S608
                    list(row.values()))
    uscc, name, clause, net = found
    return HoldRecord(row["hold_seq"], entitlement_id, action, reason, actor, row["recorded_at"], after, uscc, name,
                      clause, net)
