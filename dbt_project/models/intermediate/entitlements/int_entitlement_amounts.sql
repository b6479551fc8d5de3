-- The amount each triggered clause grants, by its amount rule: one macro per rule
-- (macros/amount_rules/<rule>.sql, amount_rule__<rule>; declared in registry/catalog/amount_rules.py).
-- The per-award cap (a cap the clause declares per award) applies here; yearly caps and budgets
-- later, in int_entitlement_caps and fct_entitlements. A rule whose data has not arrived gives a
-- null amount (awaiting_data); a rule whose data shows no award gives amount_unmet.
with conditions as (
    select *
    from {{ ref('int_clause_conditions') }}
    where conditions_met and {{ changed_firms_only('uscc') }}
),

priced as (
    {{ union_of_rule_macros('amount_rule', 'conditions') }}
)

select
    p.clause_id,
    p.trigger_event_id,
    p.uscc,
    p.amount_rule,
    p.base_amount,
    p.amount_unmet,
    case when p.amount_unmet is null then
        cast(case
            when c.cap_yuan is not null and p.uncapped_amount > c.cap_yuan then c.cap_yuan
            else p.uncapped_amount
        end as decimal(18, 2))
    end as entitled_amount,
    p.rule_is_cap or coalesce(c.cap_yuan is not null and p.uncapped_amount >= c.cap_yuan, false) as is_cap
from priced as p
inner join {{ ref('stg_policy__clauses') }} as c on c.clause_id = p.clause_id
