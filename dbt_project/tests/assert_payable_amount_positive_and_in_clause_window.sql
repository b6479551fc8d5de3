-- Every payable entitlement has an amount above zero and a trigger date inside the window of
-- its clause (dim_policy_clauses.effective_from .. effective_to, both inclusive); a payable
-- line whose clause is missing from the catalog fails too.
select
    e.entitlement_id,
    e.clause_id,
    e.uscc,
    e.trigger_date,
    e.entitled_amount,
    c.effective_from,
    c.effective_to,
    case
        when c.clause_id is null then 'clause not in catalog'
        when e.entitled_amount is null or e.entitled_amount <= 0 then 'amount not above zero'
        else 'trigger date outside the clause window'
    end as failure
from {{ ref('fct_entitlements') }} as e
left join {{ ref('dim_policy_clauses') }} as c on c.clause_id = e.clause_id
where
    e.status = 'payable'
    and (
        c.clause_id is null
        or e.entitled_amount is null
        or e.entitled_amount <= 0
        or e.trigger_date < c.effective_from
        or e.trigger_date > c.effective_to
    )
