{#- The amount rules' macros, found by name (macros/amount_rules/README.md): the union of
    `<prefix>__<rule>(conditions)` over every rule that defines one; and shared pieces of the rules. -#}
{% macro union_of_rule_macros(prefix, conditions) -%}
    {%- set found = [] -%}
    {%- for name in context.keys() | sort if name.startswith(prefix ~ '__') -%}
        {%- do found.append(name) -%}
    {%- endfor -%}
    {%- for name in found %}
select * from (
{{ context[name](conditions) }}
) as {{ name }}
{{- '\nunion all' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- The amount the catalog states (amount_yuan), for the rules that pay it as written. -#}
{% macro catalog_amount(conditions, rule, rule_is_cap) -%}
select
    k.clause_id,
    k.trigger_event_id,
    k.uscc,
    c.amount_rule,
    cast(null as decimal(18, 2)) as base_amount,
    cast(c.amount_yuan as decimal(18, 2)) as uncapped_amount,
    cast(null as {{ dbt.type_string() }}) as amount_unmet,
    {{ 'true' if rule_is_cap else 'false' }} as rule_is_cap
from {{ conditions }} as k
inner join {{ ref('stg_policy__clauses') }} as c on c.clause_id = k.clause_id
where c.amount_rule = '{{ rule }}'
{%- endmacro %}
