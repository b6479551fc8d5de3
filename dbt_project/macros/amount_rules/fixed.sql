{#- fixed: the catalog amount. -#}
{% macro amount_rule__fixed(conditions) -%}
    {{ catalog_amount(conditions, 'fixed', rule_is_cap=false) }}
{%- endmacro %}
