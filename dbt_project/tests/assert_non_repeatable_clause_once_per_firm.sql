-- 不可重复享受: a clause with repeatable = false has at most one entitlement per firm that is
-- not 'already_granted' (the first qualifying trigger; every later one is already_granted).
select
    e.clause_id,
    e.uscc,
    count(*) as not_already_granted,
    string_agg(e.trigger_event_id || ':' || e.status, ', ' order by e.trigger_date) as entitlements
from {{ ref('fct_entitlements') }} as e
inner join {{ ref('dim_policy_clauses') }} as c on c.clause_id = e.clause_id
where not c.repeatable and e.status <> 'already_granted'
group by e.clause_id, e.uscc
having count(*) > 1
