-- Every delivered version of every firm's master record, typed and named for the models;
-- lineage kept for the audit trail. The current version of each firm is stg_registry__firms.
select
    firm_key as firm_record_id,
    uscc,
    firm_name,
    division_code,
    industry_code,
    registered_date,
    source,
    file_sha256,
    row_number as source_row_number,
    ingested_at,
    load_id
from {{ source('raw', 'firms') }}
