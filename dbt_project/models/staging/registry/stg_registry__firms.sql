-- The current master record of each firm: the most recently ingested version.
with ranked as (
    select
        *,
        row_number() over (partition by uscc order by ingested_at desc, load_id desc, row_number desc) as recency
    from {{ source('raw', 'firms') }}
)

select
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
from ranked
where recency = 1
