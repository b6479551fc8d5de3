-- Each firm's 梯度 tier and its 高企 / 规上 flags on the list date. The tier is the highest
-- tier among designations valid that day (granted or renewed, not revoked, not expired).
-- Incremental by firm (macros/changed_firms.sql); also recomputes the firms whose spell ended
-- since the last build.
{{ config(unique_key='uscc') }}
with valid_on_date as (
    select *
    from {{ ref('int_designation_spells') }}
    where {{ spell_valid_on(as_of_date(), spell='') }}
),

tiers as (
    select
        uscc,
        max(tier_rank) as tier_rank
    from valid_on_date
    where tier_rank is not null
    group by uscc
),

flags as (
    select
        uscc,
        max(case when event_type = 'hitech' then 1 else 0 end) = 1 as is_hitech,
        max(case when event_type = 'scale_up' then 1 else 0 end) = 1 as is_above_scale
    from valid_on_date
    group by uscc
)

select
    p.uscc,
    p.firm_name,
    p.city,
    t.tier_rank,
    et.event_type as tier,
    et.term as tier_term,
    coalesce(f.is_hitech, false) as is_hitech,
    coalesce(f.is_above_scale, false) as is_above_scale
from {{ ref('int_firm_profiles') }} as p
left join tiers as t on t.uscc = p.uscc
left join {{ ref('stg_reference__event_types') }} as et on et.tier_rank = t.tier_rank
left join flags as f on f.uscc = p.uscc
where
    {{ changed_firms_only('p.uscc') }}
    {%- if is_incremental() %}
    -- and the firms whose designation ran out since the last build: nothing new arrived for
    -- them, but their tier or flags changed with the date
    or p.uscc in (
        select uscc
        from {{ ref('int_designation_spells') }}
        where valid_to > {{ changed_since_date() }} and valid_to <= {{ as_of_date() }}
    )
    {%- endif %}
