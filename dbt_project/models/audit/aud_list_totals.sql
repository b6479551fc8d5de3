-- One row per published list: lines, awards, reversals and total as published; its notice
-- period and confirmation; and, as of today, how much of it is held and how much counts as
-- paid (confirmed and not held). lines_head is the ledger's chain head after that night.
select
    ls.list_date,
    ls.line_count,
    sum(case when l.kind = 'award' then 1 else 0 end) as award_lines,
    coalesce(sum(case when l.kind = 'award' then l.amount end), 0) as awards,
    sum(case when l.kind = 'reversal' then 1 else 0 end) as reversal_lines,
    coalesce(sum(case when l.kind = 'reversal' then l.amount end), 0) as reversals,
    ls.total,
    coalesce(sum(case when l.is_held then l.amount end), 0) as held_now,
    coalesce(sum(case when l.counts_as_paid then l.amount end), 0) as paid,
    ls.notice_days,
    ls.notice_ends,
    c.confirmed_on,
    ls.inputs_fingerprint,
    ls.lines_head,
    ls.published_at
from {{ source('ledger', 'lists') }} as ls
left join {{ ref('aud_list_lines') }} as l on l.list_date = ls.list_date
left join {{ source('ledger', 'confirmations') }} as c on c.list_date = ls.list_date
group by
    ls.list_date, ls.line_count, ls.total, ls.notice_days, ls.notice_ends, c.confirmed_on,
    ls.inputs_fingerprint, ls.lines_head, ls.published_at
