{#-
  Incremental by firm (docs/scaling.md, "Incremental nights").

  Every model whose rows grow with history is keyed by firm: a firm's rows depend only on its
  own facts (and, for incubator awards, on its tenants', which int_changed_firms folds in). On
  an incremental run such a model computes the rows of the firms in int_changed_firms only, and
  the strategy `replace_changed_firms` deletes those firms' old rows and inserts the new ones.
  A full refresh (`dbt build --full-refresh`, or no table yet) computes every firm; the result is
  the same (tests/test_incremental.py).
-#}

{#- The filter a model puts on its driving relation: `column` is one of tonight's changed firms
    (always true on a full build). The ref at parse time records the dependency for dbt's graph;
    at run time it is only resolved on incremental runs (a unit test, run as a full build, has no
    int_changed_firms among its inputs). -#}
{% macro changed_firms_only(column) -%}
    {%- if not execute -%}{%- do ref('int_changed_firms') -%}{%- endif -%}
    {%- if is_incremental() -%}
        {{ column }} in (select uscc from {{ ref('int_changed_firms') }})
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- Replace the changed firms' rows: delete every row of a changed firm (also the firms that now
    have no row at all) and every row whose unique_key was recomputed tonight (models that
    recompute more than the changed firms, e.g. a whole budget group), then insert. -#}
{% macro get_incremental_replace_changed_firms_sql(arg_dict) -%}
    {{ return(adapter.dispatch('get_incremental_replace_changed_firms_sql')(arg_dict)) }}
{%- endmacro %}

{#- DuckDB (and any engine with DELETE): delete, then insert, in the model's transaction. -#}
{% macro default__get_incremental_replace_changed_firms_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set temp = arg_dict['temp_relation'] -%}
    {%- set unique_key = arg_dict['unique_key'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ target }}
    where
        uscc in (select uscc from {{ ref('int_changed_firms') }})
        {%- if unique_key %}
        or {{ unique_key }} in (select {{ unique_key }} from {{ temp }})
        {%- endif %};
    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ temp }}
{%- endmacro %}

{#- The list date of the last build the changed firms are counted from (var changed_since), as a
    SQL date literal; null when there is none (a full build). -#}
{% macro changed_since_date() -%}
    {%- set since = var('changed_since', none) -%}
    {%- if since -%} cast('{{ since["as_of_date"] }}' as date) {%- else -%} cast(null as date) {%- endif -%}
{%- endmacro %}

{#- adapter: spark — a Parquet table has no DELETE. The rows kept (every row of a firm not
    recomputed tonight, whose unique_key was not recomputed either) and tonight's rows are
    written to a staging table first (Spark refuses to overwrite a table it is reading), then
    the target is overwritten from it. The whole table is rewritten, which is what a
    non-transactional format costs; with Delta or Iceberg this becomes a MERGE. The staging table
    <model>__dbt_keep is dropped before each use; the registry never reads it. -#}
{% macro spark__get_incremental_replace_changed_firms_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set temp = arg_dict['temp_relation'] -%}
    {%- set unique_key = arg_dict['unique_key'] -%}
    {%- set keep = target.incorporate(path={'identifier': target.identifier ~ '__dbt_keep'}) -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    {%- do run_query('drop table if exists ' ~ keep) -%}
    {%- set stage -%}
        create table {{ keep }} using parquet as
        select {{ columns }} from {{ target }} as kept
        left anti join {{ ref('int_changed_firms') }} as changed on changed.uscc = kept.uscc
        {%- if unique_key %}
        left anti join (select {{ unique_key }} from {{ temp }}) as recomputed
            on recomputed.{{ unique_key }} = kept.{{ unique_key }}
        {%- endif %}
        union all
        select {{ columns }} from {{ temp }}
    {%- endset -%}
    {%- do run_query(stage) -%}
    insert overwrite table {{ target }} select {{ columns }} from {{ keep }}
{%- endmacro %}

{#- adapter: spark — dbt-spark's incremental materialization accepts only its own strategies
    (append, merge, insert_overwrite, microbatch) and builds their SQL itself; these two
    overrides (root-project macros win over the adapter's) let it take replace_changed_firms too
    and hand every other strategy back to dbt-spark unchanged. -#}
{% macro dbt_spark_validate_get_incremental_strategy(raw_strategy, file_format) -%}
    {%- if raw_strategy == 'replace_changed_firms' -%}
        {{ return(raw_strategy) }}
    {%- endif -%}
    {{ return(dbt_spark.dbt_spark_validate_get_incremental_strategy(raw_strategy, file_format)) }}
{%- endmacro %}

{% macro dbt_spark_get_incremental_sql(strategy, source, target, existing, unique_key, incremental_predicates) -%}
    {%- if strategy == 'replace_changed_firms' -%}
        {{ return(get_incremental_replace_changed_firms_sql({
            'target_relation': target, 'temp_relation': source, 'unique_key': unique_key,
            'dest_columns': adapter.get_columns_in_relation(target),
            'incremental_predicates': incremental_predicates})) }}
    {%- endif -%}
    {{ return(dbt_spark.dbt_spark_get_incremental_sql(strategy, source, target, existing, unique_key,
                                                     incremental_predicates)) }}
{%- endmacro %}
