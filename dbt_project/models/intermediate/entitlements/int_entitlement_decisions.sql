-- Which qualified candidates compete for payment, in order:
--   1. what the clause repeats over (repeat_per, int_entitlement_candidates.repeat_key): a clause
--      pays each key once, on its earliest qualifying, unrevoked trigger (a later one is
--      already_granted): once per firm, per product, per project, per fiscal year ...;
--   2. an award whose designation was later revoked loses its ground (revoked);
--   3. an award whose amount waits for data (a grant, an annual report) is awaiting_data;
--   4. 就高不重复: among the clauses of one stacking group fired by the same event, the
--      highest single award wins (ties: an in-force document before a draft, then clause id);
--      the others are superseded.
with qualified as (
    select
        c.*,
        cl.stacking_group,
        cl.repeat_per,
        cl.repeatable,
        cl.on_automatic_list,
        cl.automatic_ground,
        cl.budget_group,
        d.is_draft,
        coalesce(s.end_reason = 'revoked', false) as is_revoked
    from {{ ref('int_entitlement_candidates') }} as c
    inner join {{ ref('stg_policy__clauses') }} as cl on cl.clause_id = c.clause_id
    inner join {{ ref('stg_policy__documents') }} as d on d.document_id = c.document_id
    left join {{ ref('int_designation_spells') }} as s on s.start_event_id = c.trigger_event_id
    where c.conditions_met and {{ changed_firms_only('c.uscc') }}
),

numbered as (
    select
        *,
        case when not is_revoked then
            row_number() over (
                partition by clause_id, uscc, repeat_key, is_revoked
                order by trigger_date, trigger_event_id
            )
        end as occurrence
    from qualified
),

eligible as (
    select
        *,
        coalesce(occurrence, 1) = 1 as is_first_occurrence,
        not is_revoked and entitled_amount is not null as is_rankable
    from numbered
)

select
    *,
    case when is_first_occurrence and is_rankable then
        row_number() over (
            partition by
                uscc,
                coalesce(stacking_group, clause_id),
                trigger_event_id,
                is_first_occurrence and is_rankable
            order by entitled_amount desc, is_draft, clause_id
        )
    end as stacking_rank,
    case
        when not is_first_occurrence then 'already_granted'
        when is_revoked then 'revoked'
        when entitled_amount is null then 'awaiting_data'
    end as pre_cap_status
from eligible
