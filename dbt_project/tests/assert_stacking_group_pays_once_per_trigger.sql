-- 就高不重复 never pays two: for one firm and one triggering event, at most one entitlement of a
-- stacking group is payable. Returns the offending (firm, group, event) with what was paid.
select
    uscc,
    stacking_group,
    trigger_event_id,
    count(*) as payable_count,
    {{ dbt.listagg('clause_id', "', '", 'order by clause_id') }} as payable_clauses,
    sum(entitled_amount) as payable_total
from {{ ref('fct_entitlements') }}
where status = 'payable'
group by uscc, stacking_group, trigger_event_id
having count(*) > 1
