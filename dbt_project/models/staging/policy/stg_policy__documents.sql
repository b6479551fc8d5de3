select
    document_id,
    title,
    doc_number,
    city,
    issuer,
    status as document_status,
    status = 'draft' as is_draft,
    effective_from,
    effective_to,
    seed_file,
    reading as document_reading,
    stacking_quote
from {{ source('policy', 'documents') }}
