{#- The current master record of each firm: its most recently ingested version (the newest
    delivery wins: a firm renames, moves, changes industry). From `records` (rows shaped as
    stg_registry__firm_records: every delivered version), the versions that pass `where`, one row
    per firm; `recency` is 1 on every row returned. stg_registry__firms is this over every firm;
    int_firm_profiles asks it for the night's changed firms only, so an incremental build ranks
    their versions, not every firm's (DuckDB does not push a semi-join through the window). -#}
{% macro current_master_records(records, where='true') -%}
select *
from (
    select
        *,
        row_number() over (
            partition by uscc order by ingested_at desc, load_id desc, source_row_number desc
        ) as recency
    from {{ records }}
    where {{ where }}
) as ranked
where recency = 1
{%- endmacro %}
