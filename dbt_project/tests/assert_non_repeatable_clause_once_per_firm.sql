-- 不可重复享受: a clause with repeatable = false has at most one entitlement per firm that is
-- neither 'already_granted' nor 'revoked' (the earliest unrevoked qualifying trigger; every later
-- one is already_granted, and a revoked trigger leaves the next one to pay).
select
    e.clause_id,
    e.uscc,
    count(*) as not_already_granted,
    {{ dbt.listagg("e.trigger_event_id || ':' || e.status", "', '", 'order by e.trigger_date') }} as entitlements
from {{ ref('fct_entitlements') }} as e
inner join {{ ref('dim_policy_clauses') }} as c on c.clause_id = e.clause_id
where not c.repeatable and e.status not in ('already_granted', 'revoked')
group by e.clause_id, e.uscc
having count(*) > 1
