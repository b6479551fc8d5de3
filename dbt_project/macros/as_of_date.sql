{#- The list date as a SQL date literal: var('as_of_date'), else the registry's plan of tonight's
    build (macros/build_plan.sql), else today. -#}
{% macro as_of_date() -%}
    {%- set value = var('as_of_date', none) -%}
    {%- if not value -%}
        {%- set plan = build_plan() -%}
        {%- set value = plan['as_of_date'] if plan else none -%}
    {%- endif -%}
    {%- if value -%} cast('{{ value }}' as date) {%- else -%} current_date {%- endif -%}
{%- endmacro %}
