-- The records withdrawn by a retraction, as the night saw them (int_event_retractions): what the
-- ledger reads to give a reversal the reason "retracted".
{{ config(materialized='view') }}
select
    event_id,
    uscc,
    retraction_event_id,
    retraction_known_on
from {{ ref('int_event_retractions') }}
