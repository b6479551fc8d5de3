{#- revenue_growth (Xiamen 一): a fixed award when revenue of the year after 升规 (Y+1) grew by at
    least min_growth_percent over the 升规 year Y (both annual reports are needed: until both are in,
    the amount awaits its data). Facts: the two reports compared. -#}
{% macro amount_facts__revenue_growth(conditions) -%}
select k.clause_id, k.trigger_event_id, k.uscc, a.report_event_id as event_id, 'report' as role, a.revenue as amount
from {{ conditions }} as k
inner join {{ ref('stg_policy__clauses') }} as c on c.clause_id = k.clause_id
inner join {{ ref('int_annual_reports') }} as a
    on a.uscc = k.uscc and a.fiscal_year in (k.trigger_year, k.trigger_year + 1)
where c.amount_rule = 'revenue_growth'
{%- endmacro %}

{% macro amount_rule__revenue_growth(conditions) -%}
with growth as (
    select
        k.clause_id,
        k.trigger_event_id,
        k.uscc,
        c.amount_rule,
        c.amount_yuan,
        c.min_growth_percent,
        base_year.revenue as base_revenue,
        next_year.revenue as next_revenue
    from {{ conditions }} as k
    inner join {{ ref('stg_policy__clauses') }} as c on c.clause_id = k.clause_id
    left join {{ ref('int_annual_reports') }} as base_year
        on base_year.uscc = k.uscc and base_year.fiscal_year = k.trigger_year
    left join {{ ref('int_annual_reports') }} as next_year
        on next_year.uscc = k.uscc and next_year.fiscal_year = k.trigger_year + 1
    where c.amount_rule = 'revenue_growth'
),

judged as (
    select
        *,
        base_revenue > 0 and (next_revenue - base_revenue) * 100 >= base_revenue * min_growth_percent as has_grown
    from growth
)

select
    clause_id,
    trigger_event_id,
    uscc,
    amount_rule,
    cast(next_revenue as decimal(18, 2)) as base_amount,
    cast(case when has_grown then amount_yuan end as decimal(18, 2)) as uncapped_amount,
    case
        when base_revenue is not null and next_revenue is not null and not coalesce(has_grown, false)
            then '纳统后次年营业收入增长未达' || cast(min_growth_percent as {{ dbt.type_string() }}) || '%'
    end as amount_unmet,
    false as rule_is_cap
from judged
{%- endmacro %}
