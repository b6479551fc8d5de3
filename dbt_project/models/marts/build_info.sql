-- What the marts were last built for: one row (see build_info.yml).
select
    cast({{ as_of_date() }} as date) as as_of_date,
    {{ changed_since_date() }} as changed_since_date,
    (select count(*) from {{ ref('int_changed_firms') }}) as firms_recomputed
