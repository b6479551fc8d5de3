-- Validity spells of designations and statuses on the list date (the rule: macros/rules/designation_spells.sql).
with events as (
    select *
    from {{ ref('int_events_in_force') }}
    where {{ changed_firms_only('uscc') }}
),

spells as (
    {{ designation_spells('events') }}
)

select * from spells
