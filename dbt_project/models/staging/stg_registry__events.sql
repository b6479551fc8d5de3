-- Landed events, typed and named for the models; lineage kept for the audit trail.
select
    event_key as event_id,
    uscc,
    firm_name,
    event_type,
    action,
    level,
    effective_date,
    published_date,
    document_ref,
    program,
    amount,
    fiscal_year,
    revenue,
    profit,
    wages,
    rank,
    related_uscc,
    source,
    file_sha256,
    row_number as source_row_number,
    ingested_at
from {{ source('raw', 'events') }}
