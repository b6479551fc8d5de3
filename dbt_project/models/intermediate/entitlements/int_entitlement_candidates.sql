-- Every triggered clause, its conditions and its amount, in one shape: the input of the
-- stacking, repeat and cap decisions. Rows whose conditions fail are kept (conditions_met
-- false, with the reasons) so an auditor can see why a firm was not paid.
select
    k.clause_id,
    k.document_id,
    k.trigger_event_id,
    k.uscc,
    k.firm_name,
    k.city,
    k.trigger_event_type,
    k.trigger_level,
    k.trigger_action,
    k.trigger_program,
    k.trigger_date,
    k.trigger_year,
    k.trigger_amount,
    k.trigger_rank,
    k.is_first_time,
    k.scale_status,
    k.is_in_scope,
    k.conditions_met and a.amount_unmet is null as conditions_met,
    nullif(concat_ws('; ', k.unmet_conditions, a.amount_unmet), '') as unmet_conditions,
    c.amount_rule,
    a.base_amount,
    a.entitled_amount,
    coalesce(a.is_cap, c.amount_rule = 'up_to' or c.percent_is_cap) as is_cap,
    cast(null as {{ dbt.type_string() }}) as beneficiary_of_uscc
from {{ ref('int_clause_conditions') }} as k
inner join {{ ref('stg_policy__clauses') }} as c on c.clause_id = k.clause_id
left join {{ ref('int_entitlement_amounts') }} as a
    on a.clause_id = k.clause_id and a.trigger_event_id = k.trigger_event_id
where {{ changed_firms_only('k.uscc') }}

union all

select
    clause_id, document_id, trigger_event_id, uscc, firm_name, city, trigger_event_type, trigger_level,
    trigger_action, trigger_program, trigger_date, trigger_year, trigger_amount, trigger_rank, is_first_time,
    scale_status, is_in_scope, conditions_met, unmet_conditions, amount_rule, base_amount, entitled_amount,
    is_cap, beneficiary_of_uscc
from {{ ref('int_incubator_hitech_awards') }}
where {{ changed_firms_only('uscc') }}
