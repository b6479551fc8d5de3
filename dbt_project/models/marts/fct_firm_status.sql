-- Each firm's 梯度 tier and its 高企 / 规上 flags on the list date (the rule:
-- macros/rules/firm_standing.sql).
-- Incremental by firm (macros/changed_firms.sql); also recomputes the firms whose spell ended
-- since the last build. The standing is computed for those firms only: over every firm's
-- spells it costs what the history holds, not what the night changed.
{{ config(unique_key='uscc') }}
with recomputed as (
    select uscc
    from {{ ref('int_firm_profiles') }}
    where {{ changed_firms_only('uscc') }}
    {%- if is_incremental() %}
    -- and the firms whose designation ran out since the last build: nothing new arrived for
    -- them, but their tier or flags changed with the date
    union
    select uscc
    from {{ ref('int_designation_spells') }}
    where valid_to > {{ changed_since_date() }} and valid_to <= {{ as_of_date() }}
    {%- endif %}
),

spells as (
    select *
    from {{ ref('int_designation_spells') }}
    {%- if is_incremental() %}
    where uscc in (select r.uscc from recomputed as r)
    {%- endif %}
),

standing as (
    {{ firm_standing('spells', as_of_date()) }}
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
{%- if is_incremental() %}
where p.uscc in (select r.uscc from recomputed as r)
{%- endif %}
