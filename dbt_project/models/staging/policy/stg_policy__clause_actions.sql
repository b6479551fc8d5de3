select clause_id, action
from {{ source('policy', 'clause_actions') }}
