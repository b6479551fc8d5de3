{#- The column list of `relation` (quoted, comma separated), leaving out `skip`: a staging model that
    passes a registry table through whole (policy.clauses: its amount-rule columns follow
    registry.catalog.amount_rules) does not list it twice. Resolved when dbt executes; at parse time
    there is nothing to list. -#}
{% macro columns_of(relation, skip=[], alias='') -%}
    {%- if execute -%}
        {%- set p = alias ~ '.' if alias else '' -%}
        {%- set names = [] -%}
        {%- for column in adapter.get_columns_in_relation(relation) if column.name | lower not in skip -%}
            {%- do names.append(p ~ adapter.quote(column.name)) -%}
        {%- endfor -%}
        {{ names | join(',\n    ') }}
    {%- else -%}
        {{ alias ~ '.' if alias else '' }}*
    {%- endif -%}
{%- endmacro %}
