{#- Materialization `table_macro` (DuckDB): the model's SQL becomes a table macro with the
    parameters the model names (config parameters=[...]), so a question asked for any value (a
    firm, a day) is answered by the same SQL, written once, that the models use. Callers run
    `select * from audit.<name>(?, ?)`. Only the audit schema uses it (DuckDB, beside the ledger). -#}
{% materialization table_macro, adapter='duckdb' %}
    {%- set parameters = config.get('parameters', []) -%}
    {{ run_hooks(pre_hooks) }}
    {%- call statement('main') -%}
        create or replace macro {{ this }}({{ parameters | join(', ') }}) as table
        {{ sql }}
    {%- endcall -%}
    {{ run_hooks(post_hooks) }}
    {% do adapter.commit() %}
    {{ return({'relations': []}) }}
{% endmaterialization %}
