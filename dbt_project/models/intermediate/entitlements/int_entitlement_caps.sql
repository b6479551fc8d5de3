-- Yearly caps, consumed in trigger order: a clause's own annual_cap_yuan per firm and award
-- year, then any shared cap group (e.g. 以上奖励补助合计每年每家孵化器最高500万元). Because the
-- whole history is recomputed each night, a cap used up by earlier nights stays used up.
-- capped = min(cumulative, cap) - min(cumulative before, cap).
with winners as (
    select d.*
    from {{ ref('int_entitlement_decisions') }} as d
    where d.pre_cap_status is null and d.stacking_rank = 1 and {{ changed_firms_only('d.uscc') }}
),

clause_capped as (
    select
        w.*,
        case when c.annual_cap_yuan is null then w.entitled_amount else
            least(
                sum(w.entitled_amount) over (
                    partition by w.uscc, w.clause_id, w.trigger_year
                    order by w.trigger_date, w.trigger_event_id rows between unbounded preceding and current row
                ),
                c.annual_cap_yuan
            )
            - least(
                coalesce(sum(w.entitled_amount) over (
                    partition by w.uscc, w.clause_id, w.trigger_year
                    order by w.trigger_date, w.trigger_event_id rows between unbounded preceding and 1 preceding
                ), 0),
                c.annual_cap_yuan
            )
        end as after_clause_cap
    from winners as w
    inner join {{ ref('stg_policy__clauses') }} as c on c.clause_id = w.clause_id
),

grouped as (
    select
        cc.*,
        g.cap_group,
        g.cap_yuan as group_cap_yuan
    from clause_capped as cc
    left join {{ ref('stg_policy__annual_cap_groups') }} as g on g.clause_id = cc.clause_id
)

select
    clause_id,
    trigger_event_id,
    uscc,
    cap_group,
    cast(case when group_cap_yuan is null then after_clause_cap else
        least(
            sum(after_clause_cap) over (
                partition by uscc, cap_group, trigger_year
                order by trigger_date, trigger_event_id, clause_id rows between unbounded preceding and current row
            ),
            group_cap_yuan
        )
        - least(
            coalesce(sum(after_clause_cap) over (
                partition by uscc, cap_group, trigger_year
                order by trigger_date, trigger_event_id, clause_id rows between unbounded preceding and 1 preceding
            ), 0),
            group_cap_yuan
        )
    end as decimal(18, 2)) as capped_amount
from grouped
