-- An auditor reads why a firm was not paid from unmet_conditions: every candidate whose
-- conditions (or amount rule) fail says why, and a candidate that qualifies carries no reason.
select
    clause_id,
    uscc,
    trigger_event_id,
    conditions_met,
    unmet_conditions
from {{ ref('int_entitlement_candidates') }}
where conditions_met is distinct from (unmet_conditions is null)
