{#-
  What tonight's build is for, read from the database rather than from command-line vars.

  The registry writes the plan of each build (registry.models.builds) before it starts dbt:
  ledger.model_build_plan (build number, list date, mode, the list date changes are counted from)
  and ledger.model_build_plan_loads (the loads landed since the last build). It passes one var
  that never changes, `registry_plan: true`, so dbt's partial parse stays valid from night to night
  (command-line vars that change every night make dbt parse the whole project again: about 10 s).
  Explicit vars (`as_of_date`, `changed_since`) still win: a build by hand, the unit tests.
-#}

{#- The newest plan, {build_seq, as_of_date, mode, changed_since: {as_of_date, load_ids} or none},
    or none (not executing, no `registry_plan` var, or no plan written). -#}
{% macro build_plan() -%}
    {%- if not execute or not var('registry_plan', false) -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- set found = run_query(
        "select build_seq, cast(as_of_date as " ~ dbt.type_string() ~ "), mode, cast(changed_since as "
        ~ dbt.type_string() ~ ") from ledger.model_build_plan order by build_seq desc limit 1") -%}
    {%- if found.rows | length == 0 -%}
        {{- exceptions.raise_compiler_error("var registry_plan is set but ledger.model_build_plan is empty: "
                                            ~ "the registry writes it before every build") -}}
    {%- endif -%}
    {%- set row = found.rows[0] -%}
    {%- set since = none -%}
    {%- if row[3] -%}
        {%- set loads = run_query("select load_id from ledger.model_build_plan_loads where build_seq = "
                                  ~ row[0] ~ " order by load_id") -%}
        {%- set since = {'as_of_date': row[3], 'load_ids': loads.columns[0].values() | list} -%}
    {%- endif -%}
    {{- return({'build_seq': row[0], 'as_of_date': row[1], 'mode': row[2], 'changed_since': since}) -}}
{%- endmacro %}

{#- What changed since the last build, {as_of_date, load_ids}: var('changed_since'), else the plan's;
    none when every firm is computed (a first build, a full refresh, a build by hand). -#}
{% macro changed_since() -%}
    {%- set given = var('changed_since', none) -%}
    {%- if given or var('as_of_date', none) -%}
        {{- return(given) -}}
    {%- endif -%}
    {%- set plan = build_plan() -%}
    {{- return(plan['changed_since'] if plan else none) -}}
{%- endmacro %}

{#- Post-hook of int_changed_firms: on an incremental build the registry planned, record the firms it
    recomputes in ledger.model_build_firms (the night's data tests look at them only, below; a
    snapshot by difference could replace exactly their rows, issue 14.2). Nothing on a full build (every row changes),
    nor on a build without a plan. -#}
{% macro record_changed_firms() -%}
    {%- set plan = build_plan() if not (var('as_of_date', none) or var('changed_since', none)) else none -%}
    {%- if plan and plan['mode'] == 'incremental' -%}
        insert into ledger.model_build_firms (build_seq, uscc) select {{ plan['build_seq'] }}, uscc from {{ this }}
    {%- endif -%}
{%- endmacro %}

{#- Data tests over history, bounded by the night (docs/scaling.md, "Data tests"). A test whose config
    has meta `incremental_scope` looks, on an incremental build the registry planned, only at the rows
    that can have changed tonight; on a full build, and on any build without a plan, it looks at every
    row, as before:
      changed_firms  the rows of the firms this build recomputed (ledger.model_build_firms, written by
                     int_changed_firms' post-hook, which every model built by firm runs after). Sound for
                     a model built by firm without a unique_key: its other rows are the ones earlier
                     builds wrote and tested, and a key never spans two firms;
      new_loads      the rows of the firms with a row in a load landed since the last build (staging and
                     source tests over raw: raw tables only grow, by load).
    This overrides dbt's get_where_subquery, which every generic test calls on the relation it tests. -#}
{% macro get_where_subquery(relation) -%}
    {%- set scope = (config.get('meta') or {}).get('incremental_scope') -%}
    {%- if scope and model.column_name == 'uscc' and (model.test_metadata or {}).get('name') == 'not_null' -%}
        {%- set scope = none -%}  {#- bounded by uscc, a not_null test of uscc would test nothing -#}
    {%- endif -%}
    {%- set plan = build_plan() if scope else none -%}
    {%- if not plan or plan['mode'] != 'incremental' -%}
        {{- return(adapter.dispatch('get_where_subquery', 'dbt')(relation)) -}}
    {%- endif -%}
    {%- if scope == 'changed_firms' -%}
        {%- set bound = "uscc in (select uscc from ledger.model_build_firms where build_seq = "
                        ~ plan['build_seq'] ~ ")" -%}
    {%- elif scope == 'new_loads' -%}
        {%- set bound = "uscc in (select uscc from " ~ relation ~ " where load_id in (select load_id from "
                        ~ "ledger.model_build_plan_loads where build_seq = " ~ plan['build_seq'] ~ "))" -%}
    {%- else -%}
        {{- exceptions.raise_compiler_error("unknown incremental_scope " ~ scope ~ " (changed_firms or new_loads)") -}}
    {%- endif -%}
    {%- set where = config.get('where', '') -%}
    {%- set condition = "(" ~ where ~ ") and " ~ bound if where else bound -%}
    {{- return("(select * from " ~ relation ~ " where " ~ condition ~ ") dbt_subquery") -}}
{%- endmacro %}
