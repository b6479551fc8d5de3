{#- up_to: 不超过 X, planned at X and flagged as a cap. -#}
{% macro amount_rule__up_to(conditions) -%}
    {{ catalog_amount(conditions, 'up_to', rule_is_cap=true) }}
{%- endmacro %}
