{#- A firm's standing on `day`, the one definition (design.md): its 梯度 tier is the highest tier
    among its designations valid that day (granted or renewed, not revoked, not expired); 高企 and
    规上 are flags beside the tier. From `spells` (rows shaped as int_designation_spells), one row per
    firm that holds anything on `day`: uscc, tier_rank, is_hitech, is_above_scale. Used by
    fct_firm_status (the list date) and the audit table macro firm_standing_on (any day, as known
    then). -#}
{% macro firm_standing(spells, day) -%}
select
    uscc,
    max(tier_rank) as tier_rank,
    max(case when event_type = 'hitech' then 1 else 0 end) = 1 as is_hitech,
    max(case when event_type = 'scale_up' then 1 else 0 end) = 1 as is_above_scale
from {{ spells }}
where {{ spell_valid_on(day, spell='') }}
group by uscc
{%- endmacro %}
