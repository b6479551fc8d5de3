{#- contribution (Xiamen 一, 综合经济贡献): C(Y) = weights x (revenue, profit, wages) of year Y's
    report; at least min_contribution_yuan and growing over C(Y-1); the award is whole stock units of
    C(Y-1) plus whole increase units of C(Y) - C(Y-1). The trigger is the year's report in force
    (int_annual_reports: a later report of the year supersedes an earlier one, which gets a reason
    and no amount). Facts: the reports of Y-1 and Y. -#}
{% macro amount_facts__contribution(conditions) -%}
select k.clause_id, k.trigger_event_id, k.uscc, a.report_event_id as event_id, 'report' as role, a.revenue as amount
from {{ conditions }} as k
inner join {{ ref('stg_policy__clauses') }} as c on c.clause_id = k.clause_id
inner join {{ ref('int_annual_reports') }} as a
    on a.uscc = k.uscc and a.fiscal_year in (k.trigger_year - 1, k.trigger_year)
where c.amount_rule = 'contribution'
{%- endmacro %}

{% macro amount_rule__contribution(conditions) -%}
with scored as (
    select
        k.clause_id,
        k.trigger_event_id,
        k.uscc,
        c.amount_rule,
        c.min_contribution_yuan,
        c.stock_unit_yuan,
        c.stock_unit_award_yuan,
        c.increase_unit_yuan,
        c.increase_unit_award_yuan,
        this_year.report_event_id is not null as is_report_in_force,
        this_year.revenue * c.weight_revenue + this_year.profit * c.weight_profit
        + this_year.wages * c.weight_wages as this_contribution,
        last_year.revenue * c.weight_revenue + last_year.profit * c.weight_profit
        + last_year.wages * c.weight_wages as last_contribution
    from {{ conditions }} as k
    inner join {{ ref('stg_policy__clauses') }} as c on c.clause_id = k.clause_id
    left join {{ ref('int_annual_reports') }} as this_year
        on this_year.uscc = k.uscc and this_year.fiscal_year = k.trigger_year
        and this_year.report_event_id = k.trigger_event_id
    left join {{ ref('int_annual_reports') }} as last_year
        on last_year.uscc = k.uscc and last_year.fiscal_year = k.trigger_year - 1
    where c.amount_rule = 'contribution'
)

select
    clause_id,
    trigger_event_id,
    uscc,
    amount_rule,
    cast(this_contribution as decimal(18, 2)) as base_amount,
    cast(case
        when is_report_in_force and this_contribution >= min_contribution_yuan and this_contribution > last_contribution
            then floor(last_contribution / stock_unit_yuan) * stock_unit_award_yuan
                + floor((this_contribution - last_contribution) / increase_unit_yuan) * increase_unit_award_yuan
    end as decimal(18, 2)) as uncapped_amount,
    case
        when not is_report_in_force then '该年度报表已被更新的报表取代'
        when this_contribution is not null
            and (this_contribution < min_contribution_yuan or this_contribution <= last_contribution)
            then '综合经济贡献未达门槛或未保持增长'
    end as amount_unmet,
    false as rule_is_cap
from scored
{%- endmacro %}
