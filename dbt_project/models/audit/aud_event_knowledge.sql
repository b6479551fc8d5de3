-- When the registry knew each record, the one definition behind `registry firm --as-known-on D`:
-- a night for D knows a record when its source had published it by D (macros/rules/known_by.sql) and
-- the registry had it: its load was taken in by a finished build for a list date on or before D (a
-- replayed or backfilled night counts as of its own date); a load no build has taken in yet counts
-- from the day it landed (Shanghai). So the records "known on D" are exactly those the night of D was
-- built from.
with first_builds as (
    select
        l.load_id,
        min(b.as_of_date) as first_built_for
    from {{ source('ledger', 'model_build_loads') }} as l
    inner join {{ source('ledger', 'model_builds') }} as b on b.build_seq = l.build_seq
    where b.event = 'finished'
    group by l.load_id
),

learned as (
    select
        e.event_id,
        e.uscc,
        e.event_type,
        e.action,
        e.effective_date,
        e.published_date,
        e.load_id,
        cast({{ dbt.dateadd('hour', 8, 'e.ingested_at') }} as date) as landed_on,
        f.first_built_for
    from {{ ref('stg_registry__events') }} as e
    left join first_builds as f on f.load_id = e.load_id
)

select
    event_id,
    uscc,
    event_type,
    action,
    effective_date,
    published_date,
    load_id,
    landed_on,
    first_built_for,
    coalesce(first_built_for, landed_on) as learned_on,
    greatest(coalesce(published_date, effective_date), coalesce(first_built_for, landed_on)) as known_on,
    greatest(effective_date, coalesce(published_date, effective_date), coalesce(first_built_for, landed_on))
        as first_night
from learned
