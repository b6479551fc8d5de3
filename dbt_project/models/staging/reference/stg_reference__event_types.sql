select event_type, term, kind, validity_years, tier_rank
from {{ source('reference', 'event_types') }}
