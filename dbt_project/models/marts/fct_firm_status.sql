-- Each firm's 梯度 tier and its 高企 / 规上 flags on the list date (the rule:
-- macros/rules/firm_standing.sql).
-- Incremental by firm (macros/changed_firms.sql); also recomputes the firms whose spell ended
-- since the last build.
{{ config(unique_key='uscc') }}
with standing as (
    {{ firm_standing(ref('int_designation_spells'), as_of_date()) }}
)

select
    p.uscc,
    p.firm_name,
    p.city,
    s.tier_rank,
    et.event_type as tier,
    et.term as tier_term,
    coalesce(s.is_hitech, false) as is_hitech,
    coalesce(s.is_above_scale, false) as is_above_scale
from {{ ref('int_firm_profiles') }} as p
left join standing as s on s.uscc = p.uscc
left join {{ ref('stg_reference__event_types') }} as et on et.tier_rank = s.tier_rank
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
