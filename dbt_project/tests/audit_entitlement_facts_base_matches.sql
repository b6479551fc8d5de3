-- audit.entitlement_facts names the related facts summed into each percent_of_related base:
-- their amounts must add up to fct_entitlements.base_amount (else the audit trail would show
-- other facts than those the amount was computed from).
select
    e.entitlement_id,
    e.base_amount,
    sum(ev.amount) as facts_sum
from {{ ref('fct_entitlements') }} as e
left join {{ ref('aud_entitlement_facts') }} as f on f.entitlement_id = e.entitlement_id and f.role = 'base'
left join {{ ref('stg_registry__events') }} as ev on ev.event_id = f.event_id
where e.amount_rule = 'percent_of_related'
group by e.entitlement_id, e.base_amount
having sum(ev.amount) is distinct from e.base_amount
