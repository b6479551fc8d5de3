{#- percent_of_trigger: X% of the triggering fact's own amount (a grant actually paid, an investment,
    a loan); "不超过 X%" is planned at X% and flagged; the base must reach min_base_yuan if set. -#}
{% macro amount_rule__percent_of_trigger(conditions) -%}
select
    k.clause_id,
    k.trigger_event_id,
    k.uscc,
    c.amount_rule,
    cast(k.trigger_amount as decimal(18, 2)) as base_amount,
    cast(round(k.trigger_amount * c.percent * 0.01, 2) as decimal(18, 2)) as uncapped_amount,
    case
        when c.min_base_yuan is not null and k.trigger_amount < c.min_base_yuan
            then '基数未达' || cast(c.min_base_yuan as {{ dbt.type_string() }}) || '元'
    end as amount_unmet,
    coalesce(c.percent_is_cap, false) as rule_is_cap
from {{ conditions }} as k
inner join {{ ref('stg_policy__clauses') }} as c on c.clause_id = k.clause_id
where c.amount_rule = 'percent_of_trigger'
{%- endmacro %}
