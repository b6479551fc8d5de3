-- The facts beside the trigger that each triggered clause's amount rests on, by the clause's amount
-- rule (macros/amount_rules/<rule>.sql, amount_facts__<rule>): for percent_of_related the grant
-- matched with the trigger or the year's figure (role base), for revenue_growth / contribution the
-- annual reports compared (role report). int_entitlement_amounts reads the bases; the audit trail
-- (audit.entitlement_facts) lists them all.
with conditions as (
    select *
    from {{ ref('int_clause_conditions') }}
    where conditions_met and {{ changed_firms_only('uscc') }}
),

facts as (
    {{ union_of_rule_macros('amount_facts', 'conditions') }}
)

select clause_id, trigger_event_id, uscc, event_id, role, cast(amount as decimal(18, 2)) as amount
from facts
