{#-
  Where the sources live on each engine (docs/scaling.md, "The same night on Spark").

  DuckDB: the registry's own tables (raw, reference, policy) in the database file; nothing to do.
  Spark: the registry writes the same tables as Parquet folders (registry/store/lake.py, var
  lake_dir) and this on-run-start hook registers each declared source of those schemas as an
  external table over its folder, dropped and registered again on every run so a new load's file
  is always seen. Dropping an external table leaves its files alone.
-#}
{% macro register_lake_sources() -%}
    {{ return(adapter.dispatch('register_lake_sources')()) }}
{%- endmacro %}

{% macro default__register_lake_sources() -%}
{%- endmacro %}

{% macro spark__register_lake_sources() -%}
    {%- if execute -%}
        {%- set lake = var('lake_dir', none) -%}
        {%- if not lake -%}
            {{ exceptions.raise_compiler_error("the spark target reads its sources from the registry's Parquet lake: set the var lake_dir (registry nightly --engine spark does)") }}
        {%- endif -%}
        {%- set schemas = [] -%}
        {%- for source in graph.sources.values() if source.source_name in ('raw', 'reference', 'policy') -%}
            {%- if source.schema not in schemas -%}
                {%- do run_query('create database if not exists ' ~ source.schema) -%}
                {%- do schemas.append(source.schema) -%}
            {%- endif -%}
            {%- set relation = source.schema ~ '.' ~ source.identifier -%}
            {%- do run_query('drop table if exists ' ~ relation) -%}
            {%- do run_query("create table " ~ relation ~ " using parquet location '"
                             ~ lake ~ "/" ~ source.schema ~ "/" ~ source.identifier ~ "'") -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
