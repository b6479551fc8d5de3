-- Every line of every published list, with the state of its list (公示 / confirmed) and of its
-- entitlement (held by an objection or not) today, and whether it counts as paid:
-- counts_as_paid = its list is confirmed and its entitlement is not held.
with ranked_holds as (
    select
        entitlement_id,
        action,
        reason,
        actor,
        recorded_at,
        row_number() over (partition by entitlement_id order by hold_seq desc) as recency
    from {{ source('ledger', 'holds') }}
),

holds_now as (
    select
        entitlement_id,
        action = 'hold' as is_held,
        reason as hold_reason,
        actor as hold_actor,
        recorded_at as hold_recorded_at
    from ranked_holds
    where recency = 1
)

select
    l.list_date,
    l.seq,
    l.line_id,
    l.entitlement_id,
    l.uscc,
    l.firm_name,
    l.city,
    l.clause_id,
    l.document_title,
    l.article,
    l.kind,
    l.amount,
    l.payable_amount,
    l.entitled_amount,
    l.amount_rule,
    l.is_cap,
    l.is_draft,
    l.status,
    l.reason_code,
    l.reason,
    l.original_line_id,
    l.rule_version,
    l.trigger_event_id,
    l.award_year,
    ls.notice_ends,
    c.confirmed_on,
    coalesce(h.is_held, false) as is_held,
    case when h.is_held then h.hold_reason end as hold_reason,
    case when h.is_held then h.hold_actor end as hold_actor,
    case when h.is_held then h.hold_recorded_at end as hold_recorded_at,
    c.confirmed_on is not null and not coalesce(h.is_held, false) as counts_as_paid,
    l.listed_at,
    l.row_hash
from {{ source('ledger', 'lines') }} as l
inner join {{ source('ledger', 'lists') }} as ls on ls.list_date = l.list_date
left join {{ source('ledger', 'confirmations') }} as c on c.list_date = l.list_date
left join holds_now as h on h.entitlement_id = l.entitlement_id
