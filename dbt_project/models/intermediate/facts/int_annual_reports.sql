-- One row per firm and fiscal year with the figures in force (the latest report of that year
-- when a year was reported more than once) and the 综合经济贡献 inputs.
select
    uscc,
    fiscal_year,
    revenue,
    profit,
    wages,
    event_id as report_event_id,
    effective_date
from (
    select
        *,
        row_number() over (
            partition by uscc, fiscal_year
            order by coalesce(published_date, effective_date) desc, effective_date desc, event_id desc
        ) as recency
    from {{ ref('int_events_in_force') }}
    where event_type = 'annual_report' and action in ('granted', 'renewed') and {{ changed_firms_only('uscc') }}
) as reports
where recency = 1
