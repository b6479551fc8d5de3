-- Each firm's 梯度 tier over time: one row per period in which its highest valid tier stays the same
-- (the rules: macros/rules/designation_spells.sql, macros/rules/spell_valid_on.sql). What `registry
-- firm` shows as "tier over time".
with spells as (
    select *
    from {{ ref('int_designation_spells') }}
    where tier_rank is not null and {{ changed_firms_only('uscc') }}
),

points as (
    select uscc, valid_from as day from spells
    union
    select uscc, valid_to as day from spells where valid_to is not null
),

ranked as (
    select
        p.uscc,
        p.day,
        max(s.tier_rank) as tier_rank
    from points as p
    left join spells as s on s.uscc = p.uscc and {{ spell_valid_on('p.day') }}
    group by p.uscc, p.day
),

changes as (
    select
        uscc,
        day,
        tier_rank,
        lag(tier_rank) over (partition by uscc order by day) as previous_rank,
        row_number() over (partition by uscc order by day) as point_number
    from ranked
),

kept as (
    select uscc, day, tier_rank
    from changes
    where
        point_number = 1
        or tier_rank <> previous_rank
        or (tier_rank is null and previous_rank is not null)
        or (tier_rank is not null and previous_rank is null)
)

select
    k.uscc,
    k.day as valid_from,
    lead(k.day) over (partition by k.uscc order by k.day) as valid_to,
    k.tier_rank,
    et.event_type as tier,
    et.term as tier_term
from kept as k
left join {{ ref('stg_reference__event_types') }} as et on et.tier_rank = k.tier_rank
