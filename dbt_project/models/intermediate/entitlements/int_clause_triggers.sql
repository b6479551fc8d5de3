-- Every (clause, event) pair where the event is of the kind the clause names (type, level,
-- action, program), the firm is in the document's city, and the event falls in the clause's
-- window. Clauses paid to someone other than the event's firm (per_incubated_hitech) are
-- triggered in their own model.
select
    c.clause_id,
    c.document_id,
    e.event_id as trigger_event_id,
    e.uscc,
    e.event_type as trigger_event_type,
    e.level as trigger_level,
    e.action as trigger_action,
    e.program as trigger_program,
    e.document_ref as trigger_document_ref,
    e.fiscal_year as trigger_fiscal_year,
    e.effective_date as trigger_date,
    e.amount as trigger_amount,
    e.rank as trigger_rank,
    coalesce(e.fiscal_year, cast(extract(year from e.effective_date) as integer)) as trigger_year,
    p.firm_name,
    p.city
from {{ ref('int_events_in_force') }} as e
inner join {{ ref('stg_policy__clauses') }} as c
    on
        c.trigger_event_type = e.event_type
        and (c.trigger_level is null or c.trigger_level = e.level)
        and (c.trigger_program is null or c.trigger_program = e.program)
inner join {{ ref('stg_policy__clause_actions') }} as a
    on a.clause_id = c.clause_id and a.action = e.action
inner join {{ ref('stg_policy__documents') }} as d on d.document_id = c.document_id
inner join {{ ref('int_firm_profiles') }} as p on p.uscc = e.uscc and p.city = d.city
where
    e.effective_date between c.effective_from and c.effective_to
    and {{ changed_firms_only('e.uscc') }}
    and c.amount_rule <> 'per_incubated_hitech'
