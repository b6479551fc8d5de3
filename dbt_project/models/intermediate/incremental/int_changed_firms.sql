-- The firms whose rows the incremental models recompute tonight (docs/scaling.md):
--   * every firm the registry knows, when there is no earlier build to count from (var
--     changed_since unset: the first build, a full refresh, a `dbt build` run by hand);
--   * otherwise the firms with a row in a load landed since the last build (an event or a
--     master record), the firms with an event that came into force after the last build's list
--     date (effective and published by tonight's date, not both by the last one), and the firms
--     linked to those by a relation event (an incubator and its tenants: an incubator's award
--     reads its tenant's facts).
-- The registry plans each build (registry.models.builds) from the last finished one and writes the
-- plan where dbt reads it (macros/build_plan.sql); the post-hook records tonight's firms in
-- ledger.model_build_firms (the night's data tests over history look at them only).
{{ config(materialized='table', post_hook="{{ record_changed_firms() }}") }}
{%- set since = changed_since() %}
{%- set load_ids = (since or {}).get('load_ids', []) %}
{%- set new_loads -%}
    {%- for id in load_ids %}'{{ id | replace("'", "''") }}'{{ ", " if not loop.last }}{% endfor -%}
{%- endset %}
with events as (
    select
        uscc,
        related_uscc,
        effective_date,
        published_date,
        load_id
    from {{ ref('stg_registry__events') }}
),

changed as (
{%- if not since %}
    select uscc from {{ source('raw', 'firms') }}
    union
    select uscc from events
{%- else %}
    select uscc
    from events
    where
        -- came into force since the last build: stands tonight, did not then
        {{ stands_on(as_of_date()) }}
        and not ({{ stands_on(changed_since_date()) }})
    {%- if load_ids %}
    union
    select uscc from events where load_id in ({{ new_loads }})
    union
    select uscc from {{ source('raw', 'firms') }}
    where load_id in ({{ new_loads }})
    {%- endif %}
{%- endif %}
),

linked as (
    select e.related_uscc as uscc
    from events as e
    inner join changed as c on c.uscc = e.uscc
    where e.related_uscc is not null
    union
    select e.uscc
    from events as e
    inner join changed as c on c.uscc = e.related_uscc
)

select uscc from changed
union
select uscc from linked
