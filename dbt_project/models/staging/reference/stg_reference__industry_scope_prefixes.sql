select scope, term as scope_term, prefix
from {{ source('reference', 'industry_scope_prefixes') }}
