-- The related facts a percent_of_related clause applies its percentage to, one row per
-- (triggered clause, related event): the grant paid for the designation (dated a year before
-- to three years after the trigger) or the same fiscal year's figure (e.g. R&D spend).
-- int_entitlement_amounts sums them into the base; the audit trail lists them.
select
    k.clause_id,
    k.trigger_event_id,
    k.uscc,
    r.event_id as related_event_id,
    r.amount
from {{ ref('int_clause_conditions') }} as k
inner join {{ ref('stg_policy__clauses') }} as c on c.clause_id = k.clause_id
inner join {{ ref('int_events_in_force') }} as r
    on
        r.uscc = k.uscc
        and r.event_type = c.related_event_type
        and (c.related_program is null or r.program = c.related_program)
        and r.action in ('granted', 'renewed')
where
    k.conditions_met
    and {{ changed_firms_only('k.uscc') }}
    and c.amount_rule = 'percent_of_related'
    and (
        (
            c.related_window = 'around_trigger'
            and r.effective_date >= cast({{ dbt.dateadd('year', -1, 'k.trigger_date') }} as date)
            and r.effective_date < cast({{ dbt.dateadd('year', 3, 'k.trigger_date') }} as date)
        )
        or (c.related_window = 'same_fiscal_year' and r.fiscal_year = k.trigger_year)
    )
