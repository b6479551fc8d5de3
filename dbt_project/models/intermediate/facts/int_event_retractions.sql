-- Which record each `retracted` record withdraws (the matching rule: macros/rules/retraction_withdraws.sql),
-- among the records that stand on the list date. int_events_in_force drops the withdrawn records; the
-- ledger reads marts.fct_event_retractions to say "retracted" on the reversal it lists.
with events as (
    select *
    from {{ ref('stg_registry__events') }}
    where {{ stands_on(as_of_date()) }} and {{ changed_firms_only('uscc') }}
)

select
    e.event_id,
    e.uscc,
    min(r.event_id) as retraction_event_id,
    min(r.effective_date) as retracted_effective_date,
    min(coalesce(r.published_date, r.effective_date)) as retraction_known_on
from events as e
inner join events as r on {{ retraction_withdraws('r', 'e') }}
group by e.event_id, e.uscc
