-- Every (clause, event) pair where the event is of the kind the clause names (type, level,
-- action), the firm is in the document's city, and the event falls in the clause's window.
select
    c.clause_id,
    e.event_id as trigger_event_id,
    e.uscc,
    e.event_type as trigger_event_type,
    e.level as trigger_level,
    e.action as trigger_action,
    e.effective_date as trigger_date,
    p.firm_name,
    p.city
from {{ ref('int_events_in_force') }} as e
inner join {{ ref('stg_policy__clauses') }} as c
    on
        c.trigger_event_type = e.event_type
        and (c.trigger_level is null or c.trigger_level = e.level)
inner join {{ ref('stg_policy__clause_actions') }} as a
    on a.clause_id = c.clause_id and a.action = e.action
inner join {{ ref('stg_policy__documents') }} as d on d.document_id = c.document_id
inner join {{ ref('int_firm_profiles') }} as p on p.uscc = e.uscc and p.city = d.city
where e.effective_date between c.effective_from and c.effective_to
