{#- The list date as a SQL date literal: var('as_of_date') or today. -#}
{% macro as_of_date() -%}
    {%- set value = var('as_of_date', none) -%}
    {%- if value -%} cast('{{ value }}' as date) {%- else -%} current_date {%- endif -%}
{%- endmacro %}
