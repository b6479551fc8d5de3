{#- Validity spells, the one definition: from `events` (a relation or CTE of events in force, with
    event_id, uscc, event_type, level, action, program, effective_date), one spell per grant or
    renewal of a designation or status, per firm, type, level and program (two evaluated products
    or two rankings do not end each other's spells). A spell lasts until the next event on the same
    designation (renewal, revocation, expiry) or until its validity period runs out (reference
    validity_years: 3 years for 高企 and the 梯度 tiers; open-ended otherwise). valid_to is exclusive;
    null means open-ended. end_reason is the action that ended the spell (renewed, granted, revoked,
    expired) or validity_period; end_event_id the event that ended it (null for validity_period or an
    open spell): a `granted` row that ends a spell still valid is a republication, not a new
    designation (int_clause_conditions). Used by int_designation_spells (the night's spells) and the audit
    table macro firm_standing_on (the spells as known on any day). -#}
{% macro designation_spells(events) -%}
with typed as (
    select
        e.event_id,
        e.uscc,
        e.event_type,
        e.level,
        e.action,
        e.program,
        e.effective_date,
        t.validity_years,
        -- 梯度 tiers; a provincial 单项冠军 is not the national tier 4
        case when e.event_type <> 'single_champion' or e.level = 'national' then t.tier_rank end as tier_rank
    from {{ events }} as e
    inner join {{ ref('stg_reference__event_types') }} as t on t.event_type = e.event_type
    where t.kind in ('designation', 'status')
),

sequenced as (
    select
        *,
        lead(effective_date) over (
            partition by uscc, event_type, coalesce(level, ''), coalesce(program, '')
            order by effective_date, case when action in ('granted', 'renewed') then 0 else 1 end, event_id
        ) as next_event_date,
        lead(action) over (
            partition by uscc, event_type, coalesce(level, ''), coalesce(program, '')
            order by effective_date, case when action in ('granted', 'renewed') then 0 else 1 end, event_id
        ) as next_action,
        lead(event_id) over (
            partition by uscc, event_type, coalesce(level, ''), coalesce(program, '')
            order by effective_date, case when action in ('granted', 'renewed') then 0 else 1 end, event_id
        ) as next_event_id
    from typed
),

spells as (
    select
        event_id as start_event_id,
        uscc,
        event_type,
        level,
        program,
        action as start_action,
        tier_rank,
        effective_date as valid_from,
        case
            when validity_years is not null
                then cast({{ dbt.dateadd('year', 'validity_years', 'effective_date') }} as date)
        end as expires_on,
        next_event_date,
        next_action,
        next_event_id
    from sequenced
    where action in ('granted', 'renewed')
)

select
    start_event_id,
    uscc,
    event_type,
    level,
    program,
    start_action,
    tier_rank,
    valid_from,
    case
        when next_event_date is null then expires_on
        when expires_on is null then next_event_date
        when next_event_date < expires_on then next_event_date
        else expires_on
    end as valid_to,
    case
        when next_event_date is not null and (expires_on is null or next_event_date < expires_on)
            then next_action
        when expires_on is not null then 'validity_period'
    end as end_reason,
    case
        when next_event_date is not null and (expires_on is null or next_event_date < expires_on)
            then next_event_id
    end as end_event_id
from spells
{%- endmacro %}
