select clause_id, event_type
from {{ source('policy', 'clause_holds_any') }}
