-- Every objection (异议) hold and release, who recorded it and when, on which entitlement, and
-- the amount it had listed net at the time.
select
    h.hold_seq,
    h.entitlement_id,
    e.uscc,
    e.clause_id,
    h.action,
    h.reason,
    h.actor,
    h.recorded_at,
    h.after_list_date,
    (
        select sum(l.amount) from {{ source('ledger', 'lines') }} as l
        where l.entitlement_id = h.entitlement_id and l.list_date <= h.after_list_date
    ) as net_listed_then
from {{ source('ledger', 'holds') }} as h
inner join {{ source('ledger', 'entitlements') }} as e on e.entitlement_id = h.entitlement_id
