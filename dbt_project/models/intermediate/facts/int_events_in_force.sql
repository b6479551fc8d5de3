-- Events that stand on the list date (macros/rules/known_by.sql: effective on or before it and
-- published by then; a night only knows what its sources had published) and that no `retracted`
-- record withdraws (int_event_retractions). The retraction rows themselves are not facts.
select e.*
from {{ ref('stg_registry__events') }} as e
where
    {{ stands_on(as_of_date(), 'e') }}
    and {{ changed_firms_only('e.uscc') }}
    and e.action <> 'retracted'
    and e.event_id not in (select r.event_id from {{ ref('int_event_retractions') }} as r)
