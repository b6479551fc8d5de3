-- Events that stand on the list date: effective on or before it, published by then (a
-- night only knows what its sources had published; no published_date = known when
-- effective), and not withdrawn by a
-- `retracted` record (a source retracting a record it published in error). A retraction
-- names the record it withdraws by firm, event type, level and effective date, and by its
-- program and amount when it gives them (its own document_ref is the retraction notice's); the
-- retraction rows themselves are not facts. The amount lets a correction of a grant arrive as
-- a retraction of the amount that landed plus the new fact with the same date and program:
-- the retraction withdraws only the old record.
with events as (
    select *
    from {{ ref('stg_registry__events') }}
    where
        effective_date <= {{ as_of_date() }}
        and coalesce(published_date, effective_date) <= {{ as_of_date() }}
        and {{ changed_firms_only('uscc') }}
),

retractions as (
    select uscc, event_type, level, program, amount, effective_date
    from events
    where action = 'retracted'
)

select e.*
from events as e
where
    e.action <> 'retracted'
    and not exists (
        select 1
        from retractions as r
        where
            r.uscc = e.uscc
            and r.event_type = e.event_type
            and coalesce(r.level, '') = coalesce(e.level, '')
            and r.effective_date = e.effective_date
            and (r.program is null or r.program = e.program)
            and (r.amount is null or r.amount = e.amount)
    )
