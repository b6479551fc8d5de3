-- A firm's standing on any day as the registry knew it that day: `select * from
-- audit.firm_standing_on('<uscc>', date '<D>')`. The same rules as the night's models, instantiated for
-- the records known on D (aud_event_knowledge): retractions (macros/rules/retraction_withdraws.sql),
-- validity spells (macros/rules/designation_spells.sql), standing (macros/rules/firm_standing.sql).
-- One row per designation or status held on D; the firm's tier and flags on every row.
{{ config(materialized='table_macro', parameters=['p_uscc', 'p_day']) }}
with known as (
    select e.*
    from {{ ref('stg_registry__events') }} as e
    inner join {{ ref('aud_event_knowledge') }} as k on k.event_id = e.event_id
    where e.uscc = p_uscc and k.known_on <= p_day and e.effective_date <= p_day
),

in_force as (
    select e.*
    from known as e
    where
        e.action <> 'retracted'
        and not exists (select 1 from known as r where {{ retraction_withdraws('r', 'e') }})
),

spells as (
    {{ designation_spells('in_force') }}
),

standing as (
    {{ firm_standing('spells', 'p_day') }}
)

select
    s.uscc,
    s.event_type,
    s.level,
    s.program,
    s.start_event_id,
    s.start_action,
    s.valid_from,
    s.valid_to,
    s.tier_rank,
    st.tier_rank as firm_tier_rank,
    st.is_hitech,
    st.is_above_scale
from spells as s
cross join standing as st
where {{ spell_valid_on('p_day') }}
