-- The current master record of each firm: the most recently ingested version (the rule:
-- macros/rules/current_master_records.sql).
select
    uscc,
    firm_name,
    division_code,
    industry_code,
    registered_date,
    source,
    file_sha256,
    source_row_number,
    ingested_at,
    load_id
from ({{ current_master_records(ref('stg_registry__firm_records')) }}) as current_records
